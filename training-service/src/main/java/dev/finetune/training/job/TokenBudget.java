package dev.finetune.training.job;

import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.train.Method;
import java.util.Locale;

/**
 * The most tokens one job may train on ({@code pipeline.training.max-job-tokens}), checked at
 * validation so that a job that would hold a worker for days is refused before it is queued. The
 * plan counts what the job's settings ask for: {@code max_steps × per_device_train_batch_size ×
 * gradient_accumulation_steps × max_seq_length} when {@code max_steps} is set (every row full, an
 * upper bound), else {@code num_train_epochs ×} the train split's tokens.
 */
final class TokenBudget {
    static final String SETTING = "pipeline.training.max-job-tokens";

    private final long maxJobTokens;

    TokenBudget(long maxJobTokens) {
        if (maxJobTokens < 1) {
            throw new IllegalArgumentException(SETTING + " must be a positive number of tokens, got " + maxJobTokens);
        }
        this.maxJobTokens = maxJobTokens;
    }

    /**
     * The train split's tokens, as the dataset's statistics count them or, where a version has none,
     * bounded by its examples each cut to {@code max_seq_length}.
     *
     * @param tokens the count, or the bound
     * @param source how it was found, for the message
     */
    record TrainTokens(long tokens, String source) {}

    /**
     * Refuses the job if its plan exceeds the budget.
     *
     * @param train the train split's tokens; only asked for when the plan is by epochs
     * @throws InvalidJobException naming both numbers, the budget's setting and the value of the
     *     job's setting that would fit
     */
    void check(SettingValues settings, Method method, java.util.function.Supplier<TrainTokens> train) {
        int maxSteps = settings.get(Settings.MAX_STEPS, method);
        if (maxSteps > 0) {
            long perStep = Math.multiplyExact(
                    Math.multiplyExact((long) settings.get(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, method), (long)
                            settings.get(Settings.GRADIENT_ACCUMULATION_STEPS, method)),
                    (long) settings.get(Settings.MAX_SEQ_LENGTH, method));
            long planned = Math.multiplyExact(maxSteps, perStep);
            if (planned > maxJobTokens) {
                throw refused(
                        planned,
                        "max_steps " + maxSteps + " x per_device_train_batch_size x gradient_accumulation_steps"
                                + " x max_seq_length = " + maxSteps + " x " + perStep + " tokens per step",
                        "max_steps <= " + maxJobTokens / perStep);
            }
            return;
        }
        double epochs = settings.get(Settings.NUM_TRAIN_EPOCHS, method);
        TrainTokens tokens = train.get();
        long planned = (long) Math.ceil(epochs * tokens.tokens());
        if (planned > maxJobTokens) {
            double fitting = Math.floor(100.0 * maxJobTokens / tokens.tokens()) / 100;
            throw refused(
                    planned,
                    "num_train_epochs " + number(epochs) + " x " + tokens.tokens() + " tokens of " + tokens.source(),
                    fitting > 0
                            ? "num_train_epochs <= " + number(fitting)
                            : "max_steps set so that max_steps x tokens per step <= " + maxJobTokens);
        }
    }

    private InvalidJobException refused(long planned, String how, String fits) {
        return new InvalidJobException(
                "hyperparameters",
                "hyperparameters: the job would train on " + planned + " tokens (" + how + "), more than the "
                        + maxJobTokens + " one job may (" + SETTING + "); it would fit with " + fits + ", or with "
                        + SETTING + " >= " + planned);
    }

    private static String number(double value) {
        return value == Math.rint(value) ? String.valueOf((long) value) : String.format(Locale.ROOT, "%.2f", value);
    }
}
