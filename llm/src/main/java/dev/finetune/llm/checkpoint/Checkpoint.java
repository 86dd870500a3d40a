package dev.finetune.llm.checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model directory in HuggingFace layout: config.json plus either {@code model.safetensors} or
 * {@code model.safetensors.index.json} with its shards. Tokenizer files may sit beside them; they
 * are read elsewhere.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";

    private final Path directory;
    private final ModelConfig config;
    private final TensorSource tensors;

    private Checkpoint(Path directory, ModelConfig config, TensorSource tensors) {
        this.directory = directory;
        this.config = config;
        this.tensors = tensors;
    }

    public static Checkpoint open(Path directory) throws CheckpointException {
        Path configFile = directory.resolve(ModelConfigJson.FILE_NAME);
        if (!Files.isRegularFile(configFile)) {
            throw new CheckpointException(configFile, null, "does not exist");
        }
        ModelConfig config = ModelConfigJson.read(configFile);
        Path single = directory.resolve(SINGLE_FILE);
        Path index = directory.resolve(ShardedSafetensors.INDEX_FILE);
        TensorSource tensors;
        if (Files.isRegularFile(single)) {
            tensors = SafetensorsReader.open(single);
        } else if (Files.isRegularFile(index)) {
            tensors = ShardedSafetensors.open(index);
        } else {
            throw new CheckpointException(
                    directory, null, "has neither " + SINGLE_FILE + " nor " + ShardedSafetensors.INDEX_FILE);
        }
        return new Checkpoint(directory, config, tensors);
    }

    public Path directory() {
        return directory;
    }

    public ModelConfig config() {
        return config;
    }

    public TensorSource tensors() {
        return tensors;
    }

    @Override
    public void close() {
        tensors.close();
    }
}
