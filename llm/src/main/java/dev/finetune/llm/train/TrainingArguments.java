package dev.finetune.llm.train;

import dev.finetune.llm.optim.ScheduleType;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;

/**
 * The optimisation hyperparameters of a run as the recipes read them: a typed view of the job's
 * {@link SettingValues}. Names, defaults and rules are declared once, in {@link Settings}; the
 * defaults below repeat them for the reader.
 *
 * @param learningRate peak learning rate. Default: {@link Method#defaultLearningRate()} (2e-4 LoRA,
 *     1e-5 full).
 * @param numTrainEpochs passes over the training data (may be fractional). Default 3: transformers'.
 * @param maxSteps when > 0, the number of optimizer steps, overriding the epochs. Default -1 (off).
 * @param batchSize sequences per micro-batch ({@code per_device_train_batch_size}). Default 8.
 * @param gradientAccumulationSteps micro-batches per optimizer step. Default 1.
 * @param scheduler learning-rate shape after warmup. Default linear: transformers' default.
 * @param warmupRatio fraction of the steps spent warming up, used when warmupSteps is 0. Default 0.
 * @param warmupSteps steps of linear warmup; overrides the ratio when > 0. Default 0.
 * @param weightDecay AdamW's decoupled weight decay (not on biases and norms). Default 0.
 * @param maxGradNorm clip the global gradient norm to this; 0 disables. Default 1.0.
 * @param adamBeta1 AdamW's first-moment decay. Default 0.9.
 * @param adamBeta2 AdamW's second-moment decay. Default 0.999.
 * @param adamEpsilon AdamW's denominator guard. Default 1e-8.
 * @param maxSeqLength sequences are cut to this many tokens (the packed row length with packing).
 *     Default 1024: TRL's {@code max_length}.
 * @param seed seeds data order, LoRA initialisation and dropout. Default 42: transformers'.
 * @param saveSteps write a resumable checkpoint every this many optimizer steps (and always at the
 *     end). Default 500: transformers'.
 * @param saveTotalLimit keep only the newest this many checkpoints; 0 keeps all. Default 0.
 * @param gradientCheckpointing recompute each decoder layer's activations in backward. Default off:
 *     transformers'. QLoRA recomputes whatever this says ({@link TrainableModel#setGradientCheckpointing}).
 * @param fp16 the adapted base linears compute in fp16 with dynamic loss scaling ({@link
 *     TrainableModel#useFp16}). Default off: transformers'.
 */
public record TrainingArguments(
        double learningRate,
        double numTrainEpochs,
        int maxSteps,
        int batchSize,
        int gradientAccumulationSteps,
        ScheduleType scheduler,
        double warmupRatio,
        int warmupSteps,
        double weightDecay,
        double maxGradNorm,
        double adamBeta1,
        double adamBeta2,
        double adamEpsilon,
        int maxSeqLength,
        long seed,
        int saveSteps,
        int saveTotalLimit,
        boolean gradientCheckpointing,
        boolean fp16) {

    /** The arguments {@code settings} give a run of {@code method}; values were checked when they were set. */
    public static TrainingArguments from(SettingValues settings, Method method) {
        return new TrainingArguments(
                settings.get(Settings.LEARNING_RATE, method),
                settings.get(Settings.NUM_TRAIN_EPOCHS, method),
                settings.get(Settings.MAX_STEPS, method),
                settings.get(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, method),
                settings.get(Settings.GRADIENT_ACCUMULATION_STEPS, method),
                settings.get(Settings.LR_SCHEDULER_TYPE, method),
                settings.get(Settings.WARMUP_RATIO, method),
                settings.get(Settings.WARMUP_STEPS, method),
                settings.get(Settings.WEIGHT_DECAY, method),
                settings.get(Settings.MAX_GRAD_NORM, method),
                settings.get(Settings.ADAM_BETA1, method),
                settings.get(Settings.ADAM_BETA2, method),
                settings.get(Settings.ADAM_EPSILON, method),
                settings.get(Settings.MAX_SEQ_LENGTH, method),
                settings.get(Settings.SEED, method),
                settings.get(Settings.SAVE_STEPS, method),
                settings.get(Settings.SAVE_TOTAL_LIMIT, method),
                settings.get(Settings.GRADIENT_CHECKPOINTING, method),
                settings.get(Settings.FP16, method));
    }

    /** Every default, with the learning rate of {@code method}. */
    public static TrainingArguments defaults(Method method) {
        return from(SettingValues.none(), method);
    }

    /** Warmup steps of a run of {@code totalSteps}: warmup_steps if set, else ceil(ratio x total). */
    public int warmupStepsOf(int totalSteps) {
        return warmupSteps > 0 ? warmupSteps : (int) Math.ceil(warmupRatio * totalSteps);
    }
}
