package dev.finetune.llm.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * Reads a safetensors file through memory mappings. The data section is mapped in segments of at
 * most {@value #DEFAULT_SEGMENT_BYTES} bytes, so files over 2 GiB (the limit of one Java mapping)
 * work, and a tensor may span several segments.
 *
 * <p>The whole header is validated when the file is opened: every tensor's dtype, shape and byte
 * range must be consistent and inside the file. A bad or truncated file is therefore reported as
 * a {@link CheckpointException} naming the file and the tensor, and no read ever touches a mapped
 * byte beyond the end of the file (which would crash the JVM with SIGBUS).
 */
public final class SafetensorsReader implements TensorSource {
    /** 1 GiB: well below the 2 GiB limit of one mapping, few mappings for a large file. */
    static final long DEFAULT_SEGMENT_BYTES = 1L << 30;
    /** One NDArray is created from at most this many bytes; larger tensors are built in row blocks. */
    static final long DEFAULT_MAX_BLOCK_BYTES = 1L << 30;
    /** Widening F16/BF16 goes through a heap buffer of this size. */
    private static final int CONVERSION_CHUNK_BYTES = 8 << 20;

    private final Path file;
    private final SafetensorsHeader header;
    private final long segmentBytes;
    private final long maxBlockBytes;
    private volatile MappedByteBuffer[] segments;

    private SafetensorsReader(
            Path file, SafetensorsHeader header, MappedByteBuffer[] segments, long segmentBytes, long maxBlockBytes) {
        this.file = file;
        this.header = header;
        this.segments = segments;
        this.segmentBytes = segmentBytes;
        this.maxBlockBytes = maxBlockBytes;
    }

    public static SafetensorsReader open(Path file) throws CheckpointException {
        return open(file, DEFAULT_SEGMENT_BYTES, DEFAULT_MAX_BLOCK_BYTES);
    }

    /** Smaller segments and blocks let tests cross mapping and block boundaries with tiny files. */
    static SafetensorsReader open(Path file, long segmentBytes, long maxBlockBytes) throws CheckpointException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            SafetensorsHeader header = SafetensorsHeader.read(file, channel);
            long dataBytes = channel.size() - header.dataStart();
            int count = (int) ((dataBytes + segmentBytes - 1) / segmentBytes);
            MappedByteBuffer[] segments = new MappedByteBuffer[count];
            for (int i = 0; i < count; i++) {
                long start = i * segmentBytes;
                long length = Math.min(segmentBytes, dataBytes - start);
                segments[i] = channel.map(FileChannel.MapMode.READ_ONLY, header.dataStart() + start, length);
            }
            // The mappings stay valid after the channel is closed.
            return new SafetensorsReader(file, header, segments, segmentBytes, maxBlockBytes);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
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
        if (n * Float.BYTES > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(file, name, n + " elements do not fit in one Java array; use read()");
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) n * Float.BYTES).order(ByteOrder.nativeOrder());
        widenInto(info, 0, n, buffer);
        float[] values = new float[(int) n];
        buffer.flip().asFloatBuffer().get(values);
        return values;
    }

    @Override
    public NDArray read(String name, NDManager manager) throws CheckpointException {
        TensorInfo info = requireFloat(name);
        long[] shape = info.shape();
        long n = info.elementCount();
        if (n * Float.BYTES <= maxBlockBytes || shape.length == 0) {
            return createArray(info, 0, n, shape, manager);
        }
        // A direct buffer holds at most 2 GiB: build the tensor in blocks of rows and concatenate.
        long rowElements = n / shape[0];
        long rowsPerBlock = maxBlockBytes / (rowElements * Float.BYTES);
        if (rowsPerBlock == 0) {
            throw new CheckpointException(file, name, "one row of " + rowElements + " elements is too large to load");
        }
        try (NDList blocks = new NDList()) {
            for (long row = 0; row < shape[0]; row += rowsPerBlock) {
                long rows = Math.min(rowsPerBlock, shape[0] - row);
                long[] blockShape = shape.clone();
                blockShape[0] = rows;
                blocks.add(createArray(info, row * rowElements, rows * rowElements, blockShape, manager));
            }
            return NDArrays.concat(blocks, 0); // [rows, ...] blocks -> shape
        }
    }

    private NDArray createArray(TensorInfo info, long first, long count, long[] shape, NDManager manager)
            throws CheckpointException {
        ByteBuffer buffer =
                ByteBuffer.allocateDirect(Math.toIntExact(count * Float.BYTES)).order(ByteOrder.nativeOrder());
        widenInto(info, first, count, buffer);
        buffer.flip();
        // create() wraps the direct buffer without copying; duplicate() moves the values into memory
        // owned by the engine, so the Java buffer can be collected and never counts against the
        // direct-memory limit for the lifetime of the weights.
        try (NDArray wrapped = manager.create(buffer, new Shape(shape), DataType.FLOAT32)) {
            return wrapped.duplicate();
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

    /** Writes {@code count} elements starting at element {@code first} as native-order fp32 into dst. */
    private void widenInto(TensorInfo info, long first, long count, ByteBuffer dst) {
        int size = info.dtype().bytes();
        long offset = info.begin() + first * size;
        if (info.dtype() == DType.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            ByteBuffer raw = dst.slice();
            raw.limit(Math.toIntExact(count * Float.BYTES));
            copyRaw(offset, raw);
            dst.position(dst.position() + raw.limit());
            return;
        }
        int perChunk = CONVERSION_CHUNK_BYTES / size;
        ByteBuffer chunk = ByteBuffer.allocate(perChunk * size).order(ByteOrder.LITTLE_ENDIAN);
        for (long done = 0; done < count; ) {
            int n = (int) Math.min(perChunk, count - done);
            chunk.clear().limit(n * size);
            copyRaw(offset + done * size, chunk);
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

    /** Copies dst.remaining() bytes starting at {@code dataOffset} of the data section. */
    private void copyRaw(long dataOffset, ByteBuffer dst) {
        MappedByteBuffer[] mapped = segments;
        if (mapped == null) {
            throw new IllegalStateException(file + " is closed");
        }
        long position = dataOffset;
        while (dst.hasRemaining()) {
            MappedByteBuffer segment = mapped[(int) (position / segmentBytes)];
            int inSegment = (int) (position % segmentBytes);
            int length = Math.min(dst.remaining(), segment.capacity() - inSegment);
            dst.put(segment.slice(inSegment, length));
            position += length;
        }
    }

    /** Drops the mappings; the operating system releases them once they are garbage-collected. */
    @Override
    public void close() {
        segments = null;
    }
}
