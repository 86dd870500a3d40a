package dev.finetune.llm.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Creates engine-owned arrays from values produced in Java, block of rows by block of rows, through
 * one reusable direct buffer per thread: the array is allocated once at its final size and each
 * block is copied into its rows. So building a tensor costs the tensor plus one block, never a
 * second tensor-sized buffer, and no direct buffer is left behind for the garbage collector (a
 * direct buffer per tensor would hold its native memory until a GC happens to run, which can be
 * never while a whole model loads).
 *
 * <p>The staging buffer ({@value #DEFAULT_BLOCK_BYTES} bytes, more if one row needs more) stays with
 * the thread for reuse.
 */
public final class EngineArrays {
    /** 4 MiB: large enough that per-block overhead is invisible, small next to any real tensor. */
    public static final long DEFAULT_BLOCK_BYTES = 4L << 20;

    private static final ThreadLocal<ByteBuffer> STAGING = new ThreadLocal<>();

    private EngineArrays() {}

    /** Writes the bytes of rows {@code [firstRow, firstRow + rows)} (native byte order) into {@code into}. */
    @FunctionalInterface
    public interface RowWriter {
        void write(long firstRow, long rows, ByteBuffer into) throws CheckpointException;
    }

    /**
     * An array of {@code shape} and {@code type} in {@code manager}, filled by {@code writer} in blocks
     * of whole rows (dimension 0; a scalar is one row) of at most {@code maxBlockBytes} each (one row
     * if a row is larger).
     */
    public static NDArray create(NDManager manager, Shape shape, DataType type, long maxBlockBytes, RowWriter writer)
            throws CheckpointException {
        long rows = shape.dimension() == 0 ? 1 : shape.get(0);
        if (rows == 0 || shape.size() == 0) {
            return manager.create(shape, type);
        }
        long rowBytes = rowBytes(shape, type);
        long rowsPerBlock = Math.max(1, Math.min(rows, maxBlockBytes / rowBytes));
        ByteBuffer staging = staging(Math.toIntExact(rowsPerBlock * rowBytes));
        if (rowsPerBlock == rows) { // one block: wrap and copy once, no indexing
            staging.clear();
            writer.write(0, rows, staging);
            staging.flip();
            try (NDArray wrapped = manager.create(staging, shape, type)) {
                return wrapped.duplicate();
            }
        }
        NDArray array = manager.create(shape, type);
        try {
            for (long row = 0; row < rows; row += rowsPerBlock) {
                long count = Math.min(rowsPerBlock, rows - row);
                staging.clear();
                writer.write(row, count, staging);
                staging.flip();
                long[] blockShape = shape.getShape().clone(); // DJL hands out the Shape's own array
                blockShape[0] = count;
                // create() wraps the staging buffer without copying; set() copies it into the rows.
                try (NDArray block = manager.create(staging, new Shape(blockShape), type)) {
                    array.set(new NDIndex("{}:{}", row, row + count), block);
                }
            }
        } catch (CheckpointException | RuntimeException e) {
            array.close();
            throw e;
        }
        return array;
    }

    /** An engine-owned copy of {@code bytes} as {@code type} (INT8, UINT8) of {@code shape}. */
    public static NDArray of(NDManager manager, byte[] bytes, Shape shape, DataType type) {
        long rowBytes = rowBytes(shape, type);
        try {
            return create(
                    manager,
                    shape,
                    type,
                    DEFAULT_BLOCK_BYTES,
                    (first, rows, into) ->
                            into.put(bytes, Math.toIntExact(first * rowBytes), Math.toIntExact(rows * rowBytes)));
        } catch (CheckpointException e) {
            throw new IllegalStateException(e); // the writer reads a Java array: it cannot fail
        }
    }

    /** An engine-owned FLOAT32 copy of {@code values} of {@code shape}. */
    public static NDArray of(NDManager manager, float[] values, Shape shape) {
        long rowElements = rowBytes(shape, DataType.FLOAT32) / Float.BYTES;
        try {
            return create(manager, shape, DataType.FLOAT32, DEFAULT_BLOCK_BYTES, (first, rows, into) -> {
                into.asFloatBuffer()
                        .put(values, Math.toIntExact(first * rowElements), Math.toIntExact(rows * rowElements));
                into.position(into.position() + Math.toIntExact(rows * rowElements * Float.BYTES));
            });
        } catch (CheckpointException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long rowBytes(Shape shape, DataType type) {
        long rows = shape.dimension() == 0 ? 1 : Math.max(shape.get(0), 1);
        return shape.size() / rows * type.getNumOfBytes();
    }

    /** This thread's staging buffer, cleared, with at least {@code bytes} of capacity. */
    private static ByteBuffer staging(int bytes) {
        ByteBuffer buffer = STAGING.get();
        if (buffer == null || buffer.capacity() < bytes) {
            buffer = ByteBuffer.allocateDirect(Math.max(bytes, (int) Math.min(DEFAULT_BLOCK_BYTES, Integer.MAX_VALUE)))
                    .order(ByteOrder.nativeOrder());
            STAGING.set(buffer);
        }
        buffer.clear();
        return buffer;
    }
}
