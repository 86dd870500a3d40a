package dev.finetune.llm.cli;

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
}
