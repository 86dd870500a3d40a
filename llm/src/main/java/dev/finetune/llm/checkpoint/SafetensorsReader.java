package dev.finetune.llm.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * Reads a safetensors file with positional reads, a block at a time: nothing is memory-mapped and
 * no whole file or tensor is ever held in a Java buffer, so reading a tensor costs the tensor plus
 * one block, and the resident size of a process that loads a model is what it keeps (mapped file
 * pages would count as resident until the mapping is collected). Files of any size work; a tensor
 * larger than one NDArray block is built block by block into its final array ({@link EngineArrays}).
 *
 * <p>The whole header is validated when the file is opened: every tensor's dtype, shape and byte
 * range must be consistent and inside the file. A bad or truncated file is therefore reported as a
 * {@link CheckpointException} naming the file and the tensor.
 */
public final class SafetensorsReader implements TensorSource {
    /** Widening F16/BF16 goes through a heap buffer of this size per thread. */
    static final int DEFAULT_CHUNK_BYTES = 1 << 20;

    private static final ThreadLocal<ByteBuffer> CHUNK = new ThreadLocal<>();

    private final Path file;
    private final SafetensorsHeader header;
    private final FileChannel channel;
    private final int chunkBytes;
    private final long maxBlockBytes;

    private SafetensorsReader(
            Path file, SafetensorsHeader header, FileChannel channel, int chunkBytes, long maxBlockBytes) {
        this.file = file;
        this.header = header;
        this.channel = channel;
        this.chunkBytes = chunkBytes;
        this.maxBlockBytes = maxBlockBytes;
    }

    public static SafetensorsReader open(Path file) throws CheckpointException {
        return open(file, DEFAULT_CHUNK_BYTES, EngineArrays.DEFAULT_BLOCK_BYTES);
    }

    /** Smaller conversion chunks and array blocks let tests cross their boundaries with tiny files. */
    static SafetensorsReader open(Path file, int chunkBytes, long maxBlockBytes) throws CheckpointException {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
            SafetensorsHeader header = SafetensorsHeader.read(file, channel);
            return new SafetensorsReader(file, header, channel, chunkBytes, maxBlockBytes);
        } catch (IOException e) {
            closeQuietly(channel);
            if (e instanceof CheckpointException checkpoint) {
                throw checkpoint;
            }
            throw new CheckpointException(file, null, "cannot be read: " + e, e);
        }
    }

    public Path file() {
        return file;
    }

    /** The free-form string metadata of the header ({@code __metadata__}). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(header.tensors().keySet());
    }

    @Override
    public TensorInfo info(String name) throws CheckpointException {
        TensorInfo info = header.tensors().get(name);
        if (info == null) {
            throw new CheckpointException(
                    file,
                    name,
                    "no such tensor (the file holds " + header.tensors().size() + " tensors)");
        }
        return info;
    }

    @Override
    public Path fileOf(String name) throws CheckpointException {
        info(name);
        return file;
    }

    /** Reads a floating-point tensor widened to fp32 into a Java array. */
    public float[] readFloats(String name) throws CheckpointException {
        TensorInfo info = requireFloat(name);
        long n = info.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(file, name, n + " elements do not fit in one Java array; use read()");
        }
        float[] values = new float[(int) n];
        readFloats(name, 0, values, 0, values.length);
        return values;
    }

    @Override
    public void readFloats(String name, long first, float[] into, int offset, int count) throws CheckpointException {
        TensorInfo info = requireFloat(name);
        checkRange(info, first, count);
        int size = info.dtype().bytes();
        ByteBuffer chunk = chunk();
        int perChunk = chunk.capacity() / size;
        for (int done = 0; done < count; ) {
            int n = Math.min(perChunk, count - done);
            chunk.clear().limit(n * size);
            readRaw(info, info.begin() + (first + done) * size, chunk);
            chunk.flip();
            switch (info.dtype()) {
                case F32 -> chunk.asFloatBuffer().get(into, offset + done, n);
                case BF16 -> {
                    for (int i = 0; i < n; i++) {
                        into[offset + done + i] = FloatFormats.bf16ToFloat(chunk.getShort());
                    }
                }
                case F16 -> {
                    for (int i = 0; i < n; i++) {
                        into[offset + done + i] = FloatFormats.halfToFloat(chunk.getShort());
                    }
                }
                default -> throw new IllegalStateException("not a float dtype: " + info.dtype());
            }
            done += n;
        }
    }

    @Override
    public NDArray read(String name, NDManager manager) throws CheckpointException {
        TensorInfo info = requireFloat(name);
        long[] shape = info.shape();
        long rowElements = shape.length == 0 || shape[0] == 0 ? 1 : info.elementCount() / shape[0];
        return EngineArrays.create(
                manager,
                new Shape(shape),
                DataType.FLOAT32,
                maxBlockBytes,
                (firstRow, rows, into) -> widenInto(info, firstRow * rowElements, rows * rowElements, into));
    }

    @Override
    public void copyBytes(String name, WritableByteChannel target) throws CheckpointException {
        TensorInfo info = info(name);
        long position = header.dataStart() + info.begin();
        long remaining = info.byteSize();
        try {
            while (remaining > 0) {
                long n = channel.transferTo(position, remaining, target);
                if (n <= 0) {
                    throw new CheckpointException(file, name, "ends early: " + remaining + " bytes could not be read");
                }
                position += n;
                remaining -= n;
            }
        } catch (IOException e) {
            if (e instanceof CheckpointException checkpoint) {
                throw checkpoint;
            }
            throw new CheckpointException(file, name, "cannot be copied: " + e, e);
        }
    }

    private TensorInfo requireFloat(String name) throws CheckpointException {
        TensorInfo info = info(name);
        if (!info.dtype().isFloatWeight()) {
            throw new CheckpointException(
                    file, name, "dtype " + info.dtype() + " cannot be read as weights (supported: F32, F16, BF16)");
        }
        return info;
    }

    private void checkRange(TensorInfo info, long first, long count) {
        if (first < 0 || count < 0 || first + count > info.elementCount()) {
            throw new IndexOutOfBoundsException("elements [" + first + ", " + (first + count) + ") of '" + info.name()
                    + "', which has " + info.elementCount());
        }
    }

    /** Writes {@code count} elements starting at element {@code first} as native-order fp32 into dst. */
    private void widenInto(TensorInfo info, long first, long count, ByteBuffer dst) throws CheckpointException {
        int size = info.dtype().bytes();
        long offset = info.begin() + first * size;
        if (info.dtype() == DType.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            ByteBuffer raw = dst.slice();
            raw.limit(Math.toIntExact(count * Float.BYTES));
            readRaw(info, offset, raw);
            dst.position(dst.position() + raw.limit());
            return;
        }
        ByteBuffer chunk = chunk();
        int perChunk = chunk.capacity() / size;
        for (long done = 0; done < count; ) {
            int n = (int) Math.min(perChunk, count - done);
            chunk.clear().limit(n * size);
            readRaw(info, offset + done * size, chunk);
            chunk.flip();
            for (int i = 0; i < n; i++) {
                dst.putFloat(
                        switch (info.dtype()) {
                            case F32 -> chunk.getFloat();
                            case BF16 -> FloatFormats.bf16ToFloat(chunk.getShort());
                            case F16 -> FloatFormats.halfToFloat(chunk.getShort());
                            default -> throw new IllegalStateException("not a float dtype: " + info.dtype());
                        });
            }
            done += n;
        }
    }

    /** Reads dst.remaining() bytes starting at {@code dataOffset} of the data section. */
    private void readRaw(TensorInfo info, long dataOffset, ByteBuffer dst) throws CheckpointException {
        long position = header.dataStart() + dataOffset;
        try {
            while (dst.hasRemaining()) {
                int n = channel.read(dst, position);
                if (n < 0) {
                    throw new CheckpointException(
                            file, info.name(), "truncated: the file ended at byte " + position + " while reading");
                }
                position += n;
            }
        } catch (IOException e) {
            if (e instanceof CheckpointException checkpoint) {
                throw checkpoint;
            }
            throw new CheckpointException(file, info.name(), "cannot be read: " + e, e);
        }
    }

    /**
     * Refuses a file whose size is not where its header says the data ends: safetensors data must be
     * indexed entirely, so trailing bytes mean the header and the file disagree (a file cut short is
     * already refused when it is opened). The check {@code model import} makes before storing a file.
     */
    public void requireFullyIndexed() throws CheckpointException {
        long dataEnd = header.tensors().values().stream()
                .mapToLong(TensorInfo::end)
                .max()
                .orElse(0);
        long fileSize;
        try {
            fileSize = channel.size();
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot be read: " + e, e);
        }
        if (header.dataStart() + dataEnd != fileSize) {
            throw new CheckpointException(
                    file,
                    null,
                    "file has " + fileSize + " bytes but its header says the data ends at byte "
                            + (header.dataStart() + dataEnd) + " (" + (fileSize - header.dataStart() - dataEnd)
                            + " bytes not indexed by any tensor)");
        }
    }

    /** This thread's conversion buffer (little-endian, as safetensors stores values). */
    private ByteBuffer chunk() {
        ByteBuffer buffer = CHUNK.get();
        if (buffer == null || buffer.capacity() != chunkBytes) {
            buffer = ByteBuffer.allocate(chunkBytes).order(ByteOrder.LITTLE_ENDIAN);
            CHUNK.set(buffer);
        }
        return buffer;
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // a read-only channel has nothing to flush; the descriptor is released either way
            }
        }
    }
}
