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
        byte[] header = header(entries, metadata);
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(
                temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer length =
                    ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(channel, length);
            writeFully(channel, ByteBuffer.wrap(header));
            for (Entry entry : entries) {
                writeFully(channel, entry.data().duplicate());
            }
            channel.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static byte[] header(List<Entry> entries, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put(SafetensorsHeader.METADATA_KEY, metadata);
        }
        Set<String> seen = new HashSet<>();
        long offset = 0;
        for (Entry entry : entries) {
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
        List<List<Entry>> shards = new ArrayList<>();
        List<Entry> current = new ArrayList<>();
        long size = 0;
        for (Entry entry : entries) {
            if (!current.isEmpty() && size + entry.byteSize() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                size = 0;
            }
            current.add(entry);
            size += entry.byteSize();
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
