package dev.finetune.llm.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A checkpoint split over several safetensors files, found through {@code
 * model.safetensors.index.json}: {@code {"metadata": {"total_size": N}, "weight_map": {"<tensor>":
 * "<shard file>"}}}. Every shard is opened up front and every tensor of the index
 * is checked to be in its shard, so a broken checkpoint fails when opened, naming the shard.
 */
public final class ShardedSafetensors implements TensorSource {
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Map<String, SafetensorsReader> readerByTensor;
    private final List<SafetensorsReader> shards;
    private final Path indexFile;

    private ShardedSafetensors(
            Path indexFile, Map<String, SafetensorsReader> readerByTensor, List<SafetensorsReader> shards) {
        this.indexFile = indexFile;
        this.readerByTensor = readerByTensor;
        this.shards = shards;
    }

    public static ShardedSafetensors open(Path indexFile) throws CheckpointException {
        JsonNode weightMap;
        try {
            JsonNode root = JSON.readTree(indexFile.toFile());
            weightMap = root == null ? null : root.get("weight_map");
        } catch (IOException e) {
            throw new CheckpointException(indexFile, null, "cannot be read as JSON: " + e.getMessage(), e);
        }
        if (weightMap == null || !weightMap.isObject()) {
            throw new CheckpointException(indexFile, "weight_map", "missing or not an object");
        }
        Map<String, SafetensorsReader> readerByShard = new LinkedHashMap<>();
        Map<String, SafetensorsReader> readerByTensor = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
                String tensor = entry.getKey();
                String shard = entry.getValue().asText();
                if (!entry.getValue().isTextual()
                        || shard.contains("/")
                        || shard.contains("\\")
                        || shard.startsWith(".")) {
                    throw new CheckpointException(
                            indexFile, tensor, "shard '" + entry.getValue() + "' is not a file name");
                }
                SafetensorsReader reader = readerByShard.get(shard);
                if (reader == null) {
                    Path shardFile = indexFile.resolveSibling(shard);
                    if (!Files.isRegularFile(shardFile)) {
                        throw new CheckpointException(indexFile, tensor, "shard file " + shardFile + " does not exist");
                    }
                    reader = SafetensorsReader.open(shardFile);
                    readerByShard.put(shard, reader);
                }
                reader.info(tensor); // the index must not promise a tensor its shard lacks
                readerByTensor.put(tensor, reader);
            }
        } catch (CheckpointException e) {
            readerByShard.values().forEach(SafetensorsReader::close);
            throw e;
        }
        return new ShardedSafetensors(indexFile, readerByTensor, List.copyOf(readerByShard.values()));
    }

    /**
     * Writes tensors as one {@code model.safetensors} when they fit in {@code maxShardBytes}, or as
     * {@code model-0000i-of-0000n.safetensors} shards plus the index otherwise.
     */
    public static void write(
            Path directory, List<SafetensorsWriter.Entry> entries, long maxShardBytes, Map<String, String> metadata)
            throws IOException {
        List<List<SafetensorsWriter.Entry>> shards = SafetensorsWriter.shards(entries, maxShardBytes);
        if (shards.size() <= 1) {
            SafetensorsWriter.write(directory.resolve(Checkpoint.SINGLE_FILE), entries, metadata);
            removeStaleFiles(directory, Set.of(Checkpoint.SINGLE_FILE));
            return;
        }
        Map<String, String> weightMap = new TreeMap<>();
        long totalSize = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = shardFileName(i, shards.size());
            SafetensorsWriter.write(directory.resolve(name), shards.get(i), metadata);
            for (SafetensorsWriter.Entry entry : shards.get(i)) {
                weightMap.put(entry.name(), name);
                totalSize += entry.byteSize();
            }
        }
        writeIndex(directory, weightMap, totalSize);
        Set<String> written = new java.util.HashSet<>(weightMap.values());
        written.add(INDEX_FILE);
        removeStaleFiles(directory, written);
    }

    /** HuggingFace's name of shard {@code index} (from 0) of {@code count}: model-00001-of-00003.safetensors. */
    public static String shardFileName(int index, int count) {
        return String.format("model-%05d-of-%05d.safetensors", index + 1, count);
    }

    /**
     * Writes {@value #INDEX_FILE} ({@code {"metadata": {"total_size": N}, "weight_map": {...}}}) into
     * {@code directory} atomically: write it after the shards, so a reader never finds an index whose
     * shards are not all there.
     */
    public static void writeIndex(Path directory, Map<String, String> weightMap, long totalSize) throws IOException {
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", totalSize));
        index.put("weight_map", new TreeMap<>(weightMap));
        Path temporary = directory.resolve(INDEX_FILE + ".tmp");
        JSON.writeValue(temporary.toFile(), index);
        Files.move(temporary, directory.resolve(INDEX_FILE), StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Once a new layout is completely written, removes the weight files of an earlier save in the
     * other layout or with another shard count: they would otherwise be loaded instead of the new
     * ones (a single file wins over an index) or sit beside them unused.
     */
    private static void removeStaleFiles(Path directory, Set<String> keep) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                boolean weights = name.equals(Checkpoint.SINGLE_FILE)
                        || name.equals(INDEX_FILE)
                        || SHARD_NAME.matcher(name).matches();
                if (weights && !keep.contains(name)) {
                    Files.delete(file);
                }
            }
        }
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(readerByTensor.keySet());
    }

    @Override
    public TensorInfo info(String name) throws CheckpointException {
        return reader(name).info(name);
    }

    @Override
    public Path fileOf(String name) throws CheckpointException {
        return reader(name).file();
    }

    @Override
    public NDArray read(String name, NDManager manager) throws CheckpointException {
        return reader(name).read(name, manager);
    }

    @Override
    public void readFloats(String name, long first, float[] into, int offset, int count) throws CheckpointException {
        reader(name).readFloats(name, first, into, offset, count);
    }

    @Override
    public void copyBytes(String name, WritableByteChannel target) throws CheckpointException {
        reader(name).copyBytes(name, target);
    }

    private SafetensorsReader reader(String name) throws CheckpointException {
        SafetensorsReader reader = readerByTensor.get(name);
        if (reader == null) {
            throw new CheckpointException(
                    indexFile, name, "no such tensor in the weight_map of " + shards.size() + " shards");
        }
        return reader;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsReader::close);
    }
}
