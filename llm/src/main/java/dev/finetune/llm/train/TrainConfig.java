package dev.finetune.llm.train;

import dev.finetune.events.Objective;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.settings.Setting;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A fine-tuning job: what to train on what, and how. Loaded from YAML by {@link TrainConfigYaml} or
 * built by a service from a job request; every training setting is one of {@link Settings}, read with
 * {@link #setting} or through the typed views ({@link #training()}, {@link #sft()}, {@link #dpo()},
 * {@link #lora()}).
 *
 * @param model base model directory in HuggingFace layout (config.json, weights, tokenizer files)
 * @param trainFile training data, JSON Lines in the objective's form (see {@link ChatDatasets})
 * @param outputDir where checkpoints ({@code checkpoint-<step>/}) and the result ({@code final/}) go
 * @param method full, lora or qlora
 * @param objective sft or dpo
 * @param resume continue from the newest complete checkpoint in {@code outputDir} if there is one.
 *     Default true: a restarted job loses at most one checkpoint interval.
 * @param settings the settings the job sets; the others take their defaults
 */
public record TrainConfig(
        Path model,
        Path trainFile,
        Path outputDir,
        Method method,
        Objective objective,
        boolean resume,
        SettingValues settings) {

    public TrainConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(trainFile, "train_file");
        Objects.requireNonNull(outputDir, "output_dir");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(objective, "objective");
        Objects.requireNonNull(settings, "settings");
    }

    /** A job with every default: resume on, the method's learning rate. */
    public static TrainConfig of(Path model, Path trainFile, Path outputDir, Method method, Objective objective) {
        return new TrainConfig(model, trainFile, outputDir, method, objective, true, SettingValues.none());
    }

    /** The value of {@code setting} for this job: set explicitly, or its default for the method. */
    public <T> T setting(Setting<T> setting) {
        return settings.get(setting, method);
    }

    /** Optimisation settings. */
    public TrainingArguments training() {
        return TrainingArguments.from(settings, method);
    }

    /** SFT settings (used when the objective is sft). */
    public SftConfig sft() {
        return SftConfig.from(settings, method);
    }

    /** DPO settings (used when the objective is dpo). */
    public DpoConfig dpo() {
        return DpoConfig.from(settings, method);
    }

    /** Adapter settings (used for lora and qlora; the method decides whether the base is NF4). */
    public LoraConfig lora() {
        return LoraConfig.defaults()
                .withR(setting(Settings.LORA_R))
                .withAlpha(setting(Settings.LORA_ALPHA))
                .withDropout(setting(Settings.LORA_DROPOUT))
                .withTargetModules(setting(Settings.LORA_TARGET_MODULES))
                .withUseRslora(setting(Settings.USE_RSLORA))
                .withQuantizeBase(method == Method.QLORA)
                .withDoubleQuantization(setting(Settings.BNB_4BIT_USE_DOUBLE_QUANT));
    }

    /** This job with {@code setting} set to {@code value} (checked against its rule). */
    public <T> TrainConfig with(Setting<T> setting, T value) {
        return withSettings(settings.with(setting, value));
    }

    public TrainConfig withSettings(SettingValues value) {
        return new TrainConfig(model, trainFile, outputDir, method, objective, resume, value);
    }

    public TrainConfig withResume(boolean value) {
        return new TrainConfig(model, trainFile, outputDir, method, objective, value, settings);
    }

    public TrainConfig withOutputDir(Path value) {
        return new TrainConfig(model, trainFile, value, method, objective, resume, settings);
    }
}
