package dev.finetune.llm.cli;

import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The {@code --model} directory, checked before anything heavy starts: it must exist and hold a
 * config.json, which is read here (milliseconds) so that inputs can be validated against the
 * vocabulary before the engine and the weights load (seconds).
 */
record ModelDirectory(Path path, ModelConfig config) {

    static ModelDirectory open(CommandSpec spec, Path path) throws CheckpointException {
        CommandLine commandLine = spec.commandLine();
        if (!Files.exists(path)) {
            throw new ParameterException(commandLine, "--model: directory '" + path + "' does not exist");
        }
        if (!Files.isDirectory(path)) {
            throw new ParameterException(commandLine, "--model: '" + path + "' is not a directory");
        }
        Path configFile = path.resolve(ModelConfigJson.FILE_NAME);
        if (!Files.isRegularFile(configFile)) {
            throw new ParameterException(
                    commandLine,
                    "--model: '" + path + "' is not a model directory: it has no " + ModelConfigJson.FILE_NAME);
        }
        return new ModelDirectory(path, ModelConfigJson.read(configFile));
    }

    /** Fails naming {@code source} if a token id is not in the model's vocabulary. */
    void requireInVocabulary(long[] ids, String source) {
        int vocab = config.vocabSize();
        for (long id : ids) {
            if (id < 0 || id >= vocab) {
                throw new InputException(source + ": token id " + id + " is outside the model's vocabulary (0.."
                        + (vocab - 1) + ", vocab_size " + vocab + " in " + path.resolve(ModelConfigJson.FILE_NAME)
                        + ")");
            }
        }
    }
}
