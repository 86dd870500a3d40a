package dev.finetune.llm.train;

import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;

/**
 * Evaluation during training as the loop reads it: a typed view of the job's {@link SettingValues}
 * (names, defaults and rules are declared once, in {@link Settings}), with transformers' derived
 * values filled in.
 *
 * @param strategy when to evaluate the validation split
 * @param evalSteps with {@link EvalStrategy#STEPS}, every this many optimizer steps (save_steps when
 *     eval_steps is 0)
 * @param metricForBestModel the metric that picks the best checkpoint, always with its {@code eval_}
 *     prefix
 * @param greaterIsBetter whether a larger metric is better; unless set, false exactly when the metric
 *     ends in {@code loss}, as transformers derives it
 * @param loadBestModelAtEnd the result is the best checkpoint's weights
 * @param earlyStoppingPatience stop after this many evaluations without improvement; 0 never
 * @param earlyStoppingThreshold an improvement must exceed this
 */
public record EvalArguments(
        EvalStrategy strategy,
        int evalSteps,
        String metricForBestModel,
        boolean greaterIsBetter,
        boolean loadBestModelAtEnd,
        int earlyStoppingPatience,
        double earlyStoppingThreshold) {

    /** The evaluation a job of {@code method} setting {@code settings} asks for. */
    public static EvalArguments from(SettingValues settings, Method method) {
        String metric = settings.get(Settings.METRIC_FOR_BEST_MODEL, method);
        String prefixed = metric.startsWith("eval_") ? metric : "eval_" + metric;
        int evalSteps = settings.get(Settings.EVAL_STEPS, method);
        return new EvalArguments(
                settings.get(Settings.EVAL_STRATEGY, method),
                evalSteps > 0 ? evalSteps : settings.get(Settings.SAVE_STEPS, method),
                prefixed,
                settings.explicit(Settings.GREATER_IS_BETTER).orElse(!prefixed.endsWith("loss")),
                settings.get(Settings.LOAD_BEST_MODEL_AT_END, method),
                settings.get(Settings.EARLY_STOPPING_PATIENCE, method),
                settings.get(Settings.EARLY_STOPPING_THRESHOLD, method));
    }

    /**
     * The rules transformers enforces between these settings: load_best_model_at_end needs the
     * evaluation and save strategies to match (ours saves every save_steps steps, so eval_strategy
     * steps) and save_steps to be a multiple of eval_steps; early stopping needs evaluations.
     *
     * @throws SettingException naming both settings and their values
     */
    static void checkCombination(SettingValues settings, Method method) {
        EvalArguments eval = from(settings, method);
        int saveSteps = settings.get(Settings.SAVE_STEPS, method);
        if (eval.loadBestModelAtEnd()) {
            if (eval.strategy() != EvalStrategy.STEPS) {
                throw new SettingException(
                        Settings.LOAD_BEST_MODEL_AT_END.name(),
                        "load_best_model_at_end requires the save and eval strategies to match: checkpoints are"
                                + " saved every save_steps steps, so eval_strategy must be steps, got eval_strategy "
                                + eval.strategy().configName());
            }
            if (saveSteps % eval.evalSteps() != 0) {
                throw new SettingException(
                        Settings.LOAD_BEST_MODEL_AT_END.name(),
                        "load_best_model_at_end requires save_steps to be a round multiple of eval_steps, got"
                                + " save_steps " + saveSteps + " and eval_steps " + eval.evalSteps());
            }
        }
        if (eval.earlyStoppingPatience() > 0 && eval.strategy() == EvalStrategy.NO) {
            throw new SettingException(
                    Settings.EARLY_STOPPING_PATIENCE.name(),
                    "early_stopping_patience " + eval.earlyStoppingPatience() + " needs evaluations, got eval_strategy"
                            + " no; set eval_strategy steps or epoch");
        }
    }

    /** Whether the evaluation is due after {@code step} of {@code plan}'s steps. */
    boolean dueAfter(int step, BatchPlan plan) {
        return switch (strategy) {
            case NO -> false;
            case STEPS -> step % evalSteps == 0;
            case EPOCH -> step % plan.stepsPerEpoch() == 0 || step == plan.totalSteps();
        };
    }

    /** Whether {@code value} is better than {@code best} by more than {@code margin}. */
    boolean improves(double value, double best, double margin) {
        return (greaterIsBetter ? value > best : value < best) && Math.abs(value - best) > margin;
    }
}
