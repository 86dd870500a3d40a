package dev.finetune.llm.cli;

import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.BaseStorage;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options of every command that runs a model: the base model and an optional PEFT adapter on it. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory (HF layout).")
    Path model;

    @Option(
            names = "--adapter",
            paramLabel = "DIR",
            description = "A LoRA adapter in PEFT's layout (adapter_config.json, adapter_model.safetensors),"
                    + " applied to the --model weights.")
    Path adapter;

    @Option(
            names = "--base-dtype",
            paramLabel = "fp32|int8|nf4",
            defaultValue = "fp32",
            converter = Converters.BaseDTypeConverter.class,
            description = "How the decoder linears are stored: fp32 (exact, the default), int8 (per-row absmax)"
                    + " or nf4; loaded tensor by tensor straight into that storage.")
    BaseDType baseDtype;

    /** The storage the model is loaded into and the adapter applied over. */
    BaseStorage storage() {
        return BaseStorage.of(baseDtype);
    }
}
