package dev.finetune.llm.train;

import dev.finetune.llm.lora.LoraConfig;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A fine-tuning job: what to train on what, and how. Loaded from YAML by {@link TrainConfigYaml};
 * every section has defaults (see each record).
 *
 * @param model base model directory in HuggingFace layout (config.json, weights, tokenizer files)
 * @param trainFile training data, JSON Lines in the objective's form (see {@link ChatDatasets})
 * @param outputDir where checkpoints ({@code checkpoint-<step>/}) and the result ({@code final/}) go
 * @param method full, lora or qlora
 * @param objective sft or dpo
 * @param resume continue from the newest complete checkpoint in {@code outputDir} if there is one.
 *     Default true: a restarted job loses at most one checkpoint interval.
 * @param training optimisation hyperparameters
 * @param sft SFT settings (used when the objective is sft)
 * @param dpo DPO settings (used when the objective is dpo)
 * @param lora adapter settings (used for lora and qlora; qlora sets quantize_base itself)
 */
public record TrainConfig(
        Path model,
        Path trainFile,
        Path outputDir,
        Method method,
        Objective objective,
        boolean resume,
        TrainingArguments training,
        SftConfig sft,
        DpoConfig dpo,
        LoraConfig lora) {

    public TrainConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(trainFile, "train_file");
        Objects.requireNonNull(outputDir, "output_dir");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(objective, "objective");
        Objects.requireNonNull(training, "training");
        Objects.requireNonNull(sft, "sft");
        Objects.requireNonNull(dpo, "dpo");
        Objects.requireNonNull(lora, "lora");
    }

    /** A job with every default: resume on, the method's learning rate. */
    public static TrainConfig of(Path model, Path trainFile, Path outputDir, Method method, Objective objective) {
        return new TrainConfig(
                model,
                trainFile,
                outputDir,
                method,
                objective,
                true,
                TrainingArguments.defaults(method),
                SftConfig.defaults(),
                DpoConfig.defaults(),
                LoraConfig.defaults());
    }

    public TrainConfig withTraining(TrainingArguments value) {
        return new TrainConfig(model, trainFile, outputDir, method, objective, resume, value, sft, dpo, lora);
    }

    public TrainConfig withSft(SftConfig value) {
        return new TrainConfig(model, trainFile, outputDir, method, objective, resume, training, value, dpo, lora);
    }

    public TrainConfig withDpo(DpoConfig value) {
        return new TrainConfig(model, trainFile, outputDir, method, objective, resume, training, sft, value, lora);
    }

    public TrainConfig withLora(LoraConfig value) {
        return new TrainConfig(model, trainFile, outputDir, method, objective, resume, training, sft, dpo, value);
    }

    public TrainConfig withResume(boolean value) {
        return new TrainConfig(model, trainFile, outputDir, method, objective, value, training, sft, dpo, lora);
    }

    public TrainConfig withOutputDir(Path value) {
        return new TrainConfig(model, trainFile, value, method, objective, resume, training, sft, dpo, lora);
    }
}
