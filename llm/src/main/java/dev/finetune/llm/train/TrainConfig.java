package dev.finetune.llm.train;

import dev.finetune.events.Objective;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.objective.DpoLossType;
import dev.finetune.llm.objective.LossType;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.BaseStorage;
import dev.finetune.llm.settings.Setting;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.nio.file.Path;
import java.util.List;
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
 * @param objective what the job optimises (sft, dpo, orpo, kto, grpo)
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
     * The rules between the objective and its settings: each value against the objective's own rule
     * (GRPO's beta may be 0, DPO's may not; each takes its own loss_type); precompute_ref_log_probs
     * means something only to dpo and kto, center_rewards_coefficient only to reward, the GRPO settings
     * that declare a job's rewards only to grpo and ppo, and their own rules ({@link #checkGrpo}, {@link #checkPpo}). Refused
     * rather than ignored.
     *
     * @throws SettingException naming the setting and the objective
     */
    public static void checkObjective(Objective objective, Method method, SettingValues settings) {
        settings.checkFor(objective);
        boolean precomputes = objective == Objective.DPO || objective == Objective.KTO;
        if (settings.get(Settings.PRECOMPUTE_REF_LOG_PROBS, method) && !precomputes) {
            throw new SettingException(
                    Settings.PRECOMPUTE_REF_LOG_PROBS.name(),
                    "precompute_ref_log_probs cannot be used with objective " + objective.code()
                            + (objective == Objective.GRPO || objective == Objective.PPO
                                    ? ", whose completions are generated at each step and scored by the reference"
                                            + " then"
                                    : ", which has no reference model")
                            + "; it applies to dpo and kto (leave it false)");
        }
        double center = settings.get(Settings.CENTER_REWARDS_COEFFICIENT, method);
        if (center != 0 && objective != Objective.REWARD) {
            throw new SettingException(
                    Settings.CENTER_REWARDS_COEFFICIENT.name(),
                    "center_rewards_coefficient " + center + " cannot be used with objective " + objective.code()
                            + ": it centres a reward model's scores; it applies to objective reward (leave it 0)");
        }
        if (objective == Objective.GRPO) {
            checkGrpo(method, settings);
        } else if (objective == Objective.PPO) {
            checkPpo(method, settings);
        } else {
            for (Setting<? extends List<?>> rewards : List.of(Settings.REWARD_FUNCS, Settings.REWARD_WEIGHTS)) {
                if (!settings.get(rewards, method).isEmpty()) {
                    throw new SettingException(
                            rewards.name(),
                            rewards.name() + " cannot be used with objective " + objective.code()
                                    + ": rewards of generated completions apply to ppo and grpo");
                }
            }
        }
    }

    /**
     * PPO's rules: reward_funcs name valid rewards with one weight each; sampling is from the whole
     * tempered distribution whose log-probabilities the loss reads (TRL's PPO has no top_k or top_p); a
     * KL penalty needs the reference, the base with the adapters off, which full fine-tuning does not
     * keep; evaluations report eval_objective/scores, not eval_loss; GRPO's own settings are refused.
     */
    private static void checkPpo(Method method, SettingValues settings) {
        PpoConfig ppo = PpoConfig.from(settings, method);
        try {
            ppo.rewards();
        } catch (IllegalArgumentException e) {
            String setting = e.getMessage().startsWith(Settings.REWARD_WEIGHTS.name())
                    ? Settings.REWARD_WEIGHTS.name()
                    : Settings.REWARD_FUNCS.name();
            throw new SettingException(setting, e.getMessage());
        }
        for (Setting<?> sampling : List.of(Settings.TOP_P, Settings.TOP_K)) {
            if (settings.explicit(sampling).isPresent()) {
                throw new SettingException(
                        sampling.name(),
                        sampling.name() + " cannot be used with objective ppo: PPO samples from the whole distribution"
                                + " at the temperature, the one whose log-probabilities its loss reads (TRL's PPO"
                                + " sets top_k 0 and top_p 1)");
            }
        }
        for (Setting<?> grpoOnly : List.of(
                Settings.NUM_GENERATIONS,
                Settings.MAX_COMPLETION_LENGTH,
                Settings.EPSILON,
                Settings.EPSILON_HIGH,
                Settings.BETA,
                Settings.LOSS_TYPE,
                Settings.SCALE_REWARDS)) {
            if (settings.explicit(grpoOnly).isPresent()) {
                throw new SettingException(
                        grpoOnly.name(),
                        grpoOnly.name() + " cannot be used with objective ppo; PPO's own settings are TRL's PPOConfig"
                                + " names: response_length, kl_coef, cliprange, cliprange_value, vf_coef, gamma, lam,"
                                + " num_ppo_epochs, num_mini_batches");
            }
        }
        if (method == Method.FULL && (ppo.klCoef() > 0 || ppo.adapKlCtrl())) {
            throw new SettingException(
                    Settings.KL_COEF.name(),
                    "kl_coef " + ppo.klCoef() + " cannot be used with objective ppo and method full: the KL penalty"
                            + " needs the reference model, which is the base with the adapters off, and full"
                            + " fine-tuning keeps no frozen copy; use method lora or qlora, or kl_coef 0 without"
                            + " adap_kl_ctrl");
        }
        EvalArguments eval = EvalArguments.from(settings, method);
        if (eval.strategy() != EvalStrategy.NO && eval.metricForBestModel().equals("eval_loss")) {
            throw new SettingException(
                    Settings.METRIC_FOR_BEST_MODEL.name(),
                    "metric_for_best_model eval_loss cannot be used with objective ppo, whose evaluation samples"
                            + " completions of the validation prompts and reports eval_objective/scores: set"
                            + " metric_for_best_model objective/scores");
        }
    }

    /**
     * GRPO's rules: reward_funcs name valid rewards with one weight each (or none); a micro-batch
     * (per_device_train_batch_size, counted in completions as TRL's) holds whole groups of
     * num_generations; a KL term (beta > 0) needs the reference, the base with the adapters off, which
     * full fine-tuning does not keep; evaluations report eval_reward, not eval_loss.
     */
    private static void checkGrpo(Method method, SettingValues settings) {
        GrpoConfig grpo = GrpoConfig.from(settings, method);
        try {
            grpo.rewards();
        } catch (IllegalArgumentException e) {
            String setting = e.getMessage().startsWith(Settings.REWARD_WEIGHTS.name())
                    ? Settings.REWARD_WEIGHTS.name()
                    : Settings.REWARD_FUNCS.name();
            throw new SettingException(setting, e.getMessage());
        }
        int batchSize = settings.get(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, method);
        if (batchSize % grpo.numGenerations() != 0) {
            throw new SettingException(
                    Settings.PER_DEVICE_TRAIN_BATCH_SIZE.name(),
                    "per_device_train_batch_size " + batchSize + " must be a multiple of num_generations "
                            + grpo.numGenerations() + " with objective grpo: it counts completions, and a"
                            + " micro-batch holds whole groups of num_generations completions of one prompt");
        }
        if (method == Method.FULL && grpo.beta() > 0) {
            throw new SettingException(
                    Settings.BETA.name(),
                    "beta " + grpo.beta() + " cannot be used with objective grpo and method full: the KL term needs"
                            + " the reference model, which is the base with the adapters off, and full fine-tuning"
                            + " keeps no frozen copy; use method lora or qlora, or beta 0 (no KL term, as TRL's"
                            + " default)");
        }
        EvalArguments eval = EvalArguments.from(settings, method);
        if (eval.strategy() != EvalStrategy.NO && eval.metricForBestModel().equals("eval_loss")) {
            throw new SettingException(
                    Settings.METRIC_FOR_BEST_MODEL.name(),
                    "metric_for_best_model eval_loss cannot be used with objective grpo, whose evaluation"
                            + " samples completions of the validation prompts and reports eval_reward: set"
                            + " metric_for_best_model reward");
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
        LossType lossType = settings.get(Settings.LOSS_TYPE, method);
        double labelSmoothing = settings.get(Settings.LABEL_SMOOTHING, method);
        if (labelSmoothing > 0 && !(lossType instanceof DpoLossType dpo && dpo.usesLabelSmoothing())) {
            throw new SettingException(
                    Settings.LABEL_SMOOTHING.name(),
                    "label_smoothing " + labelSmoothing + " cannot be used with loss_type "
                            + lossType.configName() + ", which has no label smoothing term; use loss_type sigmoid"
                            + " or robust, or leave label_smoothing at 0");
        }
        if (method == Method.FULL && settings.get(Settings.FP16, method)) {
            throw new SettingException(
                    Settings.FP16.name(),
                    "fp16 true cannot be used with method full: the engine's cast to fp16 records no gradient, so"
                            + " only adapters can train over a fp16 base (use method lora or qlora with fp16, or"
                            + " leave fp16 false)");
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
        return of(model, trainFile, outputDir, method, objective, SettingValues.none());
    }

    /**
     * A job's configuration with its settings, checked together: an objective with a required setting
     * (grpo's reward_funcs) has no valid configuration without them, so it cannot be made first and
     * given its settings after.
     */
    public static TrainConfig of(
            Path model, Path trainFile, Path outputDir, Method method, Objective objective, SettingValues settings) {
        return new TrainConfig(model, trainFile, null, outputDir, method, objective, true, settings);
    }

    /** The value of {@code setting} for this job: set explicitly, or its default for the method and objective. */
    public <T> T setting(Setting<T> setting) {
        return settings.get(setting, method, objective);
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

    /** PPO settings (used when the objective is ppo). */
    public PpoConfig ppo() {
        return PpoConfig.from(settings, method);
    }

    /** GRPO settings (used when the objective is grpo). */
    public GrpoConfig grpo() {
        return GrpoConfig.from(settings, method);
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
