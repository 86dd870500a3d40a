package dev.finetune.registry.basemodel;

import dev.finetune.llm.checkpoint.Checkpoint;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.memory.ModelSize;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.llm.tokenizer.TokenizerException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Checks that a directory is a HuggingFace model the trainer can load, with the llm module's own
 * readers, before any of it is stored:
 *
 * <ol>
 *   <li>config.json parses, with a supported {@code model_type} ({@link ModelConfigJson});
 *   <li>the tokenizer (tokenizer.json, tokenizer_config.json) loads ({@link Tokenizer#load});
 *   <li>every {@code *.safetensors} file's header parses, each tensor's dtype and shape fill its byte
 *       range, and the file ends where the header's data ends ({@link SafetensorsReader});
 *   <li>the tensors are exactly the model's parameters, with the shapes config.json implies
 *       ({@link CausalLm#verify}); no weight is read.
 * </ol>
 *
 * A failure names the file relative to the directory, and the field or tensor.
 */
final class BaseModelVerifier {
    private BaseModelVerifier() {}

    static VerifiedModel verify(Path directory) {
        Path configFile = directory.resolve(ModelConfigJson.FILE_NAME);
        if (!Files.isRegularFile(configFile)) {
            throw new InvalidBaseModelException(
                    ModelConfigJson.FILE_NAME, null, "config.json: missing: a base model needs one", null);
        }
        try {
            ModelConfig config = ModelConfigJson.read(configFile);
            try (Tokenizer tokenizer = Tokenizer.load(directory)) {
                // loading is the check: files present, JSON readable, special tokens in the vocabulary
            }
            for (Path weights : safetensorsFiles(directory)) {
                try (SafetensorsReader reader = SafetensorsReader.open(weights)) {
                    reader.requireFullyIndexed();
                }
            }
            try (Checkpoint checkpoint = Checkpoint.open(directory)) {
                CausalLm.verify(checkpoint);
            }
            return new VerifiedModel(config.modelType(), ModelSize.of(config).parameters());
        } catch (CheckpointException e) {
            throw invalid(directory, e.file(), e.item(), e);
        } catch (TokenizerException e) {
            throw invalid(directory, e.file(), e.field(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> safetensorsFiles(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".safetensors"))
                    .sorted()
                    .toList();
        }
    }

    /** The reader's message with the local staging path replaced by the file's name in the model. */
    private static InvalidBaseModelException invalid(Path directory, Path file, String item, IOException e) {
        String name = file == null || !file.startsWith(directory)
                ? ""
                : directory.relativize(file).toString();
        String local = file == null ? "" : file.toString();
        String message = e.getMessage().startsWith(local)
                ? (name.isEmpty() ? "the model directory" : name)
                        + e.getMessage().substring(local.length())
                : e.getMessage();
        return new InvalidBaseModelException(name.isEmpty() ? null : name, item, message, e);
    }
}
