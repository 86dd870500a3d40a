package dev.finetune.llm.train;

import dev.finetune.events.Objective;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.objective.DpoLossType;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.BaseStorage;
import dev.finetune.llm.settings.Setting;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A fine-tuning job: what to train on what, and how. Loaded from YAML by {@link TrainConfigYaml} or
 * built by a service from a job request; every training setting is one of {@link Settings}, read with
 * {@link #setting} or through the typed views ({@link #training()}, {@link #sft()}, {@link #dpo()},
 * {@link #lora()}).
 *
 * @param model base model directory in HuggingFace layout (config.json, weights, tokenizer files)
 * @param trainFile training data, JSON Lines in the objective's form (see {@link ChatDatasets})
 * @param validationFile validation data in the same form, evaluated during training when eval_strategy
 *     is not no; null if the job has none
 * @param outputDir where checkpoints ({@code checkpoint-<step>/}) and the result ({@code final/}) go
 * @param method full, lora or qlora
 * @param objective what the job optimises (sft, dpo, orpo, kto)
 * @param resume continue from the newest complete checkpoint in {@code outputDir} if there is one.
 *     Default true: a restarted job loses at most one checkpoint interval.
 * @param settings the settings the job sets; the others take their defaults
 */
public record TrainConfig(
        Path model,
        Path trainFile,
        Path validationFile,
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
        checkCombination(method, settings);
        checkObjective(objective, method, settings);
    }

    /**
     * The rules between the objective and its settings: precompute_ref_log_probs means something only to
     * the objectives with a reference model (dpo, kto), center_rewards_coefficient only to reward; refused
     * with the others rather than ignored.
     *
     * @throws SettingException naming the setting and the objective
     */
    public static void checkObjective(Objective objective, Method method, SettingValues settings) {
        boolean hasReference = objective == Objective.DPO || objective == Objective.KTO;
        if (settings.get(Settings.PRECOMPUTE_REF_LOG_PROBS, method) && !hasReference) {
            throw new SettingException(
                    Settings.PRECOMPUTE_REF_LOG_PROBS.name(),
                    "precompute_ref_log_probs cannot be used with objective " + objective.code() + ", which has"
                            + " no reference model; it applies to dpo and kto (leave it false)");
        }
        double center = settings.get(Settings.CENTER_REWARDS_COEFFICIENT, method);
        if (center != 0 && objective != Objective.REWARD) {
            throw new SettingException(
                    Settings.CENTER_REWARDS_COEFFICIENT.name(),
                    "center_rewards_coefficient " + center + " cannot be used with objective " + objective.code()
                            + ": it centres a reward model's scores; it applies to objective reward (leave it 0)");
        }
    }

    /**
     * The rules between settings: full fine-tuning trains every weight, so its base is fp32 and it has no
     * init_adapter; qlora means an nf4 base (lora takes any base_dtype); label_smoothing only means something to the DPO losses
     * that have the term (TRL ignores it for the others: refused, so a job does not run other than set).
     *
     * @throws SettingException naming the setting, the value and what would work
     */
    public static void checkCombination(Method method, SettingValues settings) {
        DpoLossType lossType = settings.get(Settings.LOSS_TYPE, method);
        double labelSmoothing = settings.get(Settings.LABEL_SMOOTHING, method);
        if (labelSmoothing > 0 && !lossType.usesLabelSmoothing()) {
            throw new SettingException(
                    Settings.LABEL_SMOOTHING.name(),
                    "label_smoothing " + labelSmoothing + " cannot be used with loss_type "
                            + lossType.configName() + ", which has no label smoothing term; use loss_type sigmoid"
                            + " or robust, or leave label_smoothing at 0");
        }
        BaseDType base = settings.get(Settings.BASE_DTYPE, method);
        if (method == Method.FULL && base != BaseDType.FP32) {
            throw new SettingException(
                    Settings.BASE_DTYPE.name(),
                    "base_dtype " + base.configName() + " cannot be used with method full: full fine-tuning trains"
                            + " every weight, so the base must be fp32 (to store the base as " + base.configName()
                            + ", train adapters: method lora with base_dtype " + base.configName() + ")");
        }
        if (method == Method.QLORA && base != BaseDType.NF4) {
            throw new SettingException(
                    Settings.BASE_DTYPE.name(),
                    "base_dtype " + base.configName() + " cannot be used with method qlora, which stores the base as"
                            + " nf4; to store it as " + base.configName() + " use method lora with base_dtype "
                            + base.configName());
        }
        String initAdapter = settings.get(Settings.INIT_ADAPTER, method);
        if (!method.usesAdapters() && !initAdapter.isEmpty()) {
            throw new SettingException(
                    Settings.INIT_ADAPTER.name(),
                    "init_adapter \"" + initAdapter + "\" cannot be used with method full: it starts LoRA training"
                            + " from an adapter's weights; use method lora or qlora, or merge the adapter into a"
                            + " model and fine-tune that");
        }
        EvalArguments.checkCombination(settings, method);
    }

    /** The PEFT adapter (or registry reference) training starts from; empty for a new adapter. */
    public Optional<String> initAdapter() {
        String value = setting(Settings.INIT_ADAPTER);
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    /** A job with every default: resume on, the method's learning rate. */
    public static TrainConfig of(Path model, Path trainFile, Path outputDir, Method method, Objective objective) {
        return new TrainConfig(model, trainFile, null, outputDir, method, objective, true, SettingValues.none());
    }

    /** The value of {@code setting} for this job: set explicitly, or its default for the method. */
    public <T> T setting(Setting<T> setting) {
        return settings.get(setting, method);
    }

    /** Optimisation settings. */
    public TrainingArguments training() {
        return TrainingArguments.from(settings, method);
    }

    /** Evaluation during training. */
    public EvalArguments evaluation() {
        return EvalArguments.from(settings, method);
    }

    /** SFT settings (used when the objective is sft). */
    public SftConfig sft() {
        return SftConfig.from(settings, method);
    }

    /** DPO settings (used when the objective is dpo). */
    public DpoConfig dpo() {
        return DpoConfig.from(settings, method);
    }

    /** KTO settings (used when the objective is kto). */
    public KtoConfig kto() {
        return KtoConfig.from(settings, method);
    }

    /** Adapter settings (used for lora and qlora), with the base's storage from base_dtype. */
    public LoraConfig lora() {
        return lora(settings, method);
    }

    /** The adapter settings of a job of {@code method} that sets {@code settings}. */
    public static LoraConfig lora(SettingValues settings, Method method) {
        return LoraConfig.defaults()
                .withR(settings.get(Settings.LORA_R, method))
                .withAlpha(settings.get(Settings.LORA_ALPHA, method))
                .withDropout(settings.get(Settings.LORA_DROPOUT, method))
                .withTargetModules(settings.get(Settings.LORA_TARGET_MODULES, method))
                .withUseRslora(settings.get(Settings.USE_RSLORA, method))
                .withUseDora(settings.get(Settings.USE_DORA, method))
                .withBaseDtype(settings.get(Settings.BASE_DTYPE, method))
                .withDoubleQuantization(settings.get(Settings.BNB_4BIT_USE_DOUBLE_QUANT, method));
    }

    /** How the model's decoder linears are stored while training: fp32 for full, base_dtype for adapters. */
    public BaseStorage baseStorage() {
        return method == Method.FULL ? BaseStorage.FP32 : lora().baseStorage();
    }

    /** This job with {@code setting} set to {@code value} (checked against its rule). */
    public <T> TrainConfig with(Setting<T> setting, T value) {
        return withSettings(settings.with(setting, value));
    }

    public TrainConfig withSettings(SettingValues value) {
        return new TrainConfig(model, trainFile, validationFile, outputDir, method, objective, resume, value);
    }

    public TrainConfig withResume(boolean value) {
        return new TrainConfig(model, trainFile, validationFile, outputDir, method, objective, value, settings);
    }

    public TrainConfig withValidationFile(Path value) {
        return new TrainConfig(model, trainFile, value, outputDir, method, objective, resume, settings);
    }

    public TrainConfig withOutputDir(Path value) {
        return new TrainConfig(model, trainFile, validationFile, value, method, objective, resume, settings);
    }
}
