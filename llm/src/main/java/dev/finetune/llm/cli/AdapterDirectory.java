package dev.finetune.llm.cli;

import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.peft.AdapterConfigJson;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.quant.BaseStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The {@code --adapter} directory: a LoRA adapter in PEFT's layout, applied to the {@code --model}
 * weights before the command runs. Its adapter_config.json is read when the directory is opened
 * (milliseconds), so a missing or unsupported adapter fails before the weights load (seconds); the
 * adapter's tensors are checked against the model when they are applied.
 */
record AdapterDirectory(Path path) {

    /** Empty when no {@code --adapter} was given. */
    static Optional<AdapterDirectory> open(CommandSpec spec, Path path) throws CheckpointException {
        if (path == null) {
            return Optional.empty();
        }
        CommandLine commandLine = spec.commandLine();
        if (!Files.exists(path)) {
            throw new ParameterException(commandLine, "--adapter: directory '" + path + "' does not exist");
        }
        if (!Files.isDirectory(path)) {
            throw new ParameterException(commandLine, "--adapter: '" + path + "' is not a directory");
        }
        Path configFile = path.resolve(AdapterConfigJson.FILE_NAME);
        if (!Files.isRegularFile(configFile)) {
            throw new ParameterException(
                    commandLine,
                    "--adapter: '" + path + "' is not a PEFT adapter directory: it has no "
                            + AdapterConfigJson.FILE_NAME);
        }
        AdapterConfigJson.read(configFile); // an unsupported setting fails here, naming the file and the key
        return Optional.of(new AdapterDirectory(path));
    }

    /**
     * Wraps the adapted linears of {@code model} with the adapter's weights, for inference.
     *
     * @throws CheckpointException naming the file and the tensor when the adapter does not fit the model
     */
    void applyTo(CausalLm model, BaseStorage storage) throws CheckpointException {
        PeftAdapter.load(model, path, storage);
    }
}
