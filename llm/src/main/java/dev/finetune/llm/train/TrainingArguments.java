package dev.finetune.llm.train;

import dev.finetune.llm.optim.ScheduleType;

/**
 * The optimisation hyperparameters of a run, named and defaulted as transformers' {@code
 * TrainingArguments} / TRL's configs so their users recognise them. Validated when built; a bad
 * value is named: {@code "learning_rate must be > 0, got -1.0"}.
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
        int saveTotalLimit) {

    public TrainingArguments {
        require(learningRate > 0 && !Double.isInfinite(learningRate), "learning_rate must be > 0", learningRate);
        require(
                numTrainEpochs > 0 && !Double.isInfinite(numTrainEpochs),
                "num_train_epochs must be > 0",
                numTrainEpochs);
        require(maxSteps == -1 || maxSteps > 0, "max_steps must be > 0, or -1 to train for num_train_epochs", maxSteps);
        require(batchSize > 0, "per_device_train_batch_size must be > 0", batchSize);
        require(gradientAccumulationSteps > 0, "gradient_accumulation_steps must be > 0", gradientAccumulationSteps);
        if (scheduler == null) {
            throw new IllegalArgumentException("lr_scheduler_type must be set");
        }
        require(warmupRatio >= 0 && warmupRatio < 1, "warmup_ratio must be in [0, 1)", warmupRatio);
        require(warmupSteps >= 0, "warmup_steps must be >= 0", warmupSteps);
        require(weightDecay >= 0 && !Double.isInfinite(weightDecay), "weight_decay must be >= 0", weightDecay);
        require(maxGradNorm >= 0 && !Double.isInfinite(maxGradNorm), "max_grad_norm must be >= 0", maxGradNorm);
        require(adamBeta1 >= 0 && adamBeta1 < 1, "adam_beta1 must be in [0, 1)", adamBeta1);
        require(adamBeta2 >= 0 && adamBeta2 < 1, "adam_beta2 must be in [0, 1)", adamBeta2);
        require(adamEpsilon > 0, "adam_epsilon must be > 0", adamEpsilon);
        require(maxSeqLength >= 2, "max_seq_length must be >= 2", maxSeqLength);
        require(saveSteps > 0, "save_steps must be > 0", saveSteps);
        require(saveTotalLimit >= 0, "save_total_limit must be >= 0 (0 keeps every checkpoint)", saveTotalLimit);
    }

    private static void require(boolean valid, String rule, Object value) {
        if (!valid) {
            throw new IllegalArgumentException(rule + ", got " + format(value));
        }
    }

    /** A whole double as an integer ("-1", not "-1.0"), as the user probably wrote it. */
    private static String format(Object value) {
        if (value instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e15) {
            return Long.toString(d.longValue());
        }
        return String.valueOf(value);
    }

    /** Every default, with the learning rate of {@code method}. */
    public static TrainingArguments defaults(Method method) {
        return new TrainingArguments(
                method.defaultLearningRate(),
                3,
                -1,
                8,
                1,
                ScheduleType.LINEAR,
                0,
                0,
                0,
                1.0,
                0.9,
                0.999,
                1e-8,
                1024,
                42,
                500,
                0);
    }

    /** Warmup steps of a run of {@code totalSteps}: warmup_steps if set, else ceil(ratio x total). */
    public int warmupStepsOf(int totalSteps) {
        return warmupSteps > 0 ? warmupSteps : (int) Math.ceil(warmupRatio * totalSteps);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Changes some fields; {@link #build} validates. */
    public static final class Builder {
        private double learningRate;
        private double numTrainEpochs;
        private int maxSteps;
        private int batchSize;
        private int gradientAccumulationSteps;
        private ScheduleType scheduler;
        private double warmupRatio;
        private int warmupSteps;
        private double weightDecay;
        private double maxGradNorm;
        private double adamBeta1;
        private double adamBeta2;
        private double adamEpsilon;
        private int maxSeqLength;
        private long seed;
        private int saveSteps;
        private int saveTotalLimit;

        private Builder(TrainingArguments a) {
            learningRate = a.learningRate;
            numTrainEpochs = a.numTrainEpochs;
            maxSteps = a.maxSteps;
            batchSize = a.batchSize;
            gradientAccumulationSteps = a.gradientAccumulationSteps;
            scheduler = a.scheduler;
            warmupRatio = a.warmupRatio;
            warmupSteps = a.warmupSteps;
            weightDecay = a.weightDecay;
            maxGradNorm = a.maxGradNorm;
            adamBeta1 = a.adamBeta1;
            adamBeta2 = a.adamBeta2;
            adamEpsilon = a.adamEpsilon;
            maxSeqLength = a.maxSeqLength;
            seed = a.seed;
            saveSteps = a.saveSteps;
            saveTotalLimit = a.saveTotalLimit;
        }

        public Builder learningRate(double value) {
            learningRate = value;
            return this;
        }

        public Builder numTrainEpochs(double value) {
            numTrainEpochs = value;
            return this;
        }

        public Builder maxSteps(int value) {
            maxSteps = value;
            return this;
        }

        public Builder batchSize(int value) {
            batchSize = value;
            return this;
        }

        public Builder gradientAccumulationSteps(int value) {
            gradientAccumulationSteps = value;
            return this;
        }

        public Builder scheduler(ScheduleType value) {
            scheduler = value;
            return this;
        }

        public Builder warmupRatio(double value) {
            warmupRatio = value;
            return this;
        }

        public Builder warmupSteps(int value) {
            warmupSteps = value;
            return this;
        }

        public Builder weightDecay(double value) {
            weightDecay = value;
            return this;
        }

        public Builder maxGradNorm(double value) {
            maxGradNorm = value;
            return this;
        }

        public Builder adamBeta1(double value) {
            adamBeta1 = value;
            return this;
        }

        public Builder adamBeta2(double value) {
            adamBeta2 = value;
            return this;
        }

        public Builder adamEpsilon(double value) {
            adamEpsilon = value;
            return this;
        }

        public Builder maxSeqLength(int value) {
            maxSeqLength = value;
            return this;
        }

        public Builder seed(long value) {
            seed = value;
            return this;
        }

        public Builder saveSteps(int value) {
            saveSteps = value;
            return this;
        }

        public Builder saveTotalLimit(int value) {
            saveTotalLimit = value;
            return this;
        }

        public TrainingArguments build() {
            return new TrainingArguments(
                    learningRate,
                    numTrainEpochs,
                    maxSteps,
                    batchSize,
                    gradientAccumulationSteps,
                    scheduler,
                    warmupRatio,
                    warmupSteps,
                    weightDecay,
                    maxGradNorm,
                    adamBeta1,
                    adamBeta2,
                    adamEpsilon,
                    maxSeqLength,
                    seed,
                    saveSteps,
                    saveTotalLimit);
        }
    }
}
