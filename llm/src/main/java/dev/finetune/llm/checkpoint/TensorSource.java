package dev.finetune.llm.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.Closeable;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/** Named tensors stored on disk: one safetensors file, or the shards of a sharded checkpoint. */
public interface TensorSource extends Closeable {

    /** Tensor names, in file order. */
    Set<String> names();

    /** The header entry of a tensor; a missing tensor is reported with the file(s) searched. */
    TensorInfo info(String name) throws CheckpointException;

    /** The file that holds the tensor. */
    Path fileOf(String name) throws CheckpointException;

    /**
     * Reads a floating-point tensor (F32, F16 or BF16 on disk) as an fp32 array owned by
     * {@code manager}. Widening happens in Java, so no 16-bit NDArray is ever created.
     */
    NDArray read(String name, NDManager manager) throws CheckpointException;

    /**
     * Reads elements {@code [first, first + count)} of a floating-point tensor (row-major, F32, F16 or
     * BF16 on disk) widened to fp32 into {@code into[offset...]}: how a tensor is streamed a piece at
     * a time, e.g. into a quantised form, without ever being whole in fp32.
     */
    void readFloats(String name, long first, float[] into, int offset, int count) throws CheckpointException;

    /** Writes the tensor's bytes exactly as stored (its dtype, little-endian) to {@code target}. */
    void copyBytes(String name, WritableByteChannel target) throws CheckpointException;

    /** Reads a tensor and checks that its shape is the one the caller expects. */
    default NDArray read(String name, long[] expectedShape, NDManager manager) throws CheckpointException {
        TensorInfo info = info(name);
        if (!Arrays.equals(info.shape(), expectedShape)) {
            throw new CheckpointException(
                    fileOf(name),
                    name,
                    "shape " + Arrays.toString(info.shape()) + " does not match the expected shape "
                            + Arrays.toString(expectedShape));
        }
        return read(name, manager);
    }

    @Override
    void close();
}
