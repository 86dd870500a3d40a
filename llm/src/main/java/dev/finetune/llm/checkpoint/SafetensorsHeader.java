package dev.finetune.llm.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated JSON header of a safetensors file: an 8-byte little-endian header
 * length, then {@code {"__metadata__": {...}, "<name>": {"dtype", "shape", "data_offsets"}}}.
 */
record SafetensorsHeader(long dataStart, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    /** The format's own limit; a larger value means the first 8 bytes are not a header length. */
    static final long MAX_HEADER_BYTES = 100L << 20;

    static final String METADATA_KEY = "__metadata__";
    private static final ObjectMapper JSON = new ObjectMapper();

    static SafetensorsHeader read(Path file, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new CheckpointException(
                    file, null, "file has " + fileSize + " bytes, fewer than the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES) {
            throw new CheckpointException(
                    file,
                    null,
                    "header length " + headerLength + " is impossible (must be 1.." + MAX_HEADER_BYTES + ")");
        }
        if (8 + headerLength > fileSize) {
            throw new CheckpointException(
                    file, null, "truncated: header needs " + headerLength + " bytes but the file has " + fileSize);
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        JsonNode root;
        try {
            root = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, null, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, null, "header is not a JSON object");
        }
        long dataStart = 8 + headerLength;
        long dataBytes = fileSize - dataStart;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals(METADATA_KEY)) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                tensors.put(field.getKey(), readEntry(file, field.getKey(), field.getValue(), dataBytes, fileSize));
            }
        }
        checkNoOverlap(file, tensors);
        return new SafetensorsHeader(dataStart, tensors, metadata);
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> metadata)
            throws CheckpointException {
        if (!node.isObject()) {
            throw new CheckpointException(file, METADATA_KEY, "must be an object of strings");
        }
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            if (!entry.getValue().isTextual()) {
                throw new CheckpointException(file, METADATA_KEY, "value of '" + entry.getKey() + "' is not a string");
            }
            metadata.put(entry.getKey(), entry.getValue().asText());
        }
    }

    private static TensorInfo readEntry(Path file, String name, JsonNode node, long dataBytes, long fileSize)
            throws CheckpointException {
        if (!node.isObject()) {
            throw new CheckpointException(file, name, "header entry is not an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new CheckpointException(file, name, "has no dtype");
        }
        DType dtype = DType.fromHeaderName(dtypeNode.asText())
                .orElseThrow(() -> new CheckpointException(file, name, "unknown dtype '" + dtypeNode.asText() + "'"));
        long[] shape = readLongs(file, name, node.get("shape"), "shape", -1);
        long[] offsets = readLongs(file, name, node.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new CheckpointException(
                    file, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        long expectedBytes;
        try {
            expectedBytes = Math.multiplyExact(TensorInfo.elementCount(shape), dtype.bytes());
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, name, "shape is too large");
        }
        if (end - begin != expectedBytes) {
            throw new CheckpointException(
                    file,
                    name,
                    "header is inconsistent: " + dtype + " shape " + java.util.Arrays.toString(shape) + " needs "
                            + expectedBytes + " bytes but data_offsets [" + begin + ", " + end + "] span "
                            + (end - begin));
        }
        if (end > dataBytes) {
            throw new CheckpointException(
                    file,
                    name,
                    "truncated: data ends at byte " + end + " of the data section but the file holds only " + dataBytes
                            + " data bytes (" + fileSize + " bytes in all)");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] readLongs(Path file, String name, JsonNode node, String field, int requiredLength)
            throws CheckpointException {
        if (node == null || !node.isArray() || (requiredLength >= 0 && node.size() != requiredLength)) {
            throw new CheckpointException(
                    file,
                    name,
                    field + " must be an array" + (requiredLength >= 0 ? " of " + requiredLength : "")
                            + " of non-negative integers, got " + node);
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode element = node.get(i);
            if (!element.isIntegralNumber() || !element.canConvertToLong() || element.asLong() < 0) {
                throw new CheckpointException(file, name, field + " must hold non-negative integers, got " + node);
            }
            values[i] = element.asLong();
        }
        return values;
    }

    private static void checkNoOverlap(Path file, Map<String, TensorInfo> tensors) throws CheckpointException {
        List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorInfo previous = byOffset.get(i - 1);
            TensorInfo current = byOffset.get(i);
            if (current.begin() < previous.end()) {
                throw new CheckpointException(
                        file,
                        current.name(),
                        "data_offsets [" + current.begin() + ", " + current.end() + "] overlap those of '"
                                + previous.name() + "' [" + previous.begin() + ", " + previous.end() + "]");
            }
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + at);
            }
            at += n;
        }
    }
}
