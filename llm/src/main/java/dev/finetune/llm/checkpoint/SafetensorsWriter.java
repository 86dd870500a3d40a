package dev.finetune.llm.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes safetensors files. Tensors are laid out in the order given; the JSON header is padded
 * with spaces to a multiple of 8 bytes so that every tensor starts 8-byte aligned, as the
 * reference implementation does. A file is written to a temporary sibling and moved into place,
 * so an existing file is never left half-overwritten.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    /** A tensor's place in a file without its data: what the header says about it. */
    public record Layout(String name, DType dtype, long[] shape) {
        public Layout {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long byteSize() {
            return Math.multiplyExact(TensorInfo.elementCount(shape), dtype.bytes());
        }
    }

    /**
     * One tensor to write.
     *
     * @param data little-endian element bytes, exactly shape-product times dtype size
     */
    public record Entry(String name, DType dtype, long[] shape, ByteBuffer data) {
        public Entry {
            shape = shape.clone();
            long expected = Math.multiplyExact(TensorInfo.elementCount(shape), dtype.bytes());
            if (data.remaining() != expected) {
                throw new IllegalArgumentException(
                        "tensor '" + name + "': " + data.remaining() + " data bytes, shape needs " + expected);
            }
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long byteSize() {
            return data.remaining();
        }

        public Layout layout() {
            return new Layout(name, dtype, shape);
        }
    }

    /** Encodes fp32 values as {@code dtype} (F32, F16 or BF16; narrowing rounds to nearest even). */
    public static Entry floats(String name, long[] shape, float[] values, DType dtype) {
        ByteBuffer data = ByteBuffer.allocate(values.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> data.asFloatBuffer().put(values);
            case BF16 -> {
                for (float v : values) {
                    data.putShort(FloatFormats.floatToBf16(v));
                }
            }
            case F16 -> {
                for (float v : values) {
                    data.putShort(FloatFormats.floatToHalf(v));
                }
            }
            default -> throw new IllegalArgumentException("cannot store floats as " + dtype);
        }
        data.rewind();
        return new Entry(name, dtype, shape, data);
    }

    public static void write(Path file, List<Entry> entries, Map<String, String> metadata) throws IOException {
        try (Streaming out = open(file, entries.stream().map(Entry::layout).toList(), metadata)) {
            for (Entry entry : entries) {
                out.write(entry.data().duplicate());
            }
            out.finish();
        }
    }

    /**
     * Starts a file whose tensors are written one after another by the caller, in {@code layouts}'
     * order, without any of them being in memory at once: the header is written first from the
     * layouts. The file appears (atomically) only when {@link Streaming#finish} has checked that
     * every byte arrived; closing an unfinished file deletes it.
     */
    public static Streaming open(Path file, List<Layout> layouts, Map<String, String> metadata) throws IOException {
        byte[] header = header(layouts, metadata);
        long dataBytes = layouts.stream().mapToLong(Layout::byteSize).sum();
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        FileChannel channel = FileChannel.open(
                temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        Streaming out = new Streaming(file, temporary, channel, 8 + header.length + dataBytes);
        try {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
            out.write(ByteBuffer.wrap(header));
        } catch (IOException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** A safetensors file being written tensor by tensor; see {@link #open}. */
    public static final class Streaming implements AutoCloseable {
        private final Path file;
        private final Path temporary;
        private final FileChannel channel;
        private final long expectedBytes;
        private boolean finished;

        private Streaming(Path file, Path temporary, FileChannel channel, long expectedBytes) {
            this.file = file;
            this.temporary = temporary;
            this.channel = channel;
            this.expectedBytes = expectedBytes;
        }

        /** The channel tensor bytes go to, for copying them straight from another file. */
        public FileChannel channel() {
            return channel;
        }

        /** Appends the buffer's remaining bytes. */
        public void write(ByteBuffer bytes) throws IOException {
            writeFully(channel, bytes);
        }

        /** Checks the size, syncs and moves the file into place. */
        public void finish() throws IOException {
            long written = channel.position();
            if (written != expectedBytes) {
                throw new IllegalStateException(
                        file + ": " + written + " bytes written, the header promises " + expectedBytes);
            }
            channel.force(true);
            channel.close();
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            finished = true;
        }

        @Override
        public void close() throws IOException {
            if (!finished) {
                channel.close();
                Files.deleteIfExists(temporary);
            }
        }
    }

    static byte[] header(List<Layout> entries, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put(SafetensorsHeader.METADATA_KEY, metadata);
        }
        Set<String> seen = new HashSet<>();
        long offset = 0;
        for (Layout entry : entries) {
            if (!seen.add(entry.name()) || entry.name().equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("tensor name '" + entry.name() + "' is used twice or reserved");
            }
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("dtype", entry.dtype().name());
            fields.put("shape", entry.shape());
            fields.put("data_offsets", List.of(offset, offset + entry.byteSize()));
            header.put(entry.name(), fields);
            offset += entry.byteSize();
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] result = new byte[padded];
        System.arraycopy(json, 0, result, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            result[i] = ' ';
        }
        return result;
    }

    /** Splits entries into shards of at most {@code maxShardBytes} each (one tensor may exceed it alone). */
    static List<List<Entry>> shards(List<Entry> entries, long maxShardBytes) {
        return shards(entries, Entry::byteSize, maxShardBytes);
    }

    /** As {@link #shards(List, long)} for anything with a byte size. */
    public static <T> List<List<T>> shards(
            List<T> entries, java.util.function.ToLongFunction<T> size, long maxShardBytes) {
        List<List<T>> shards = new ArrayList<>();
        List<T> current = new ArrayList<>();
        long bytes = 0;
        for (T entry : entries) {
            if (!current.isEmpty() && bytes + size.applyAsLong(entry) > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(entry);
            bytes += size.applyAsLong(entry);
        }
        if (!current.isEmpty()) {
            shards.add(current);
        }
        return shards;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
