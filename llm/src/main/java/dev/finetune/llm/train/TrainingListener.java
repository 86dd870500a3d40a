package dev.finetune.llm.train;

import java.nio.file.Path;
import java.util.Map;

/**
 * Receives a run's progress: a progress bar, or the training service turning steps into events.
 * Called on the training thread after each step; keep it quick.
 */
public interface TrainingListener {
    /** Listens to nothing. */
    TrainingListener NONE = metrics -> {};

    /** Before the first step of this process: {@code startStep} > 0 when the run was resumed. */
    default void onStart(int startStep, int totalSteps) {}

    /** After each optimizer step. */
    void onStep(StepMetrics metrics);

    /**
     * After an evaluation of the validation split at {@code step} (before that step's checkpoint):
     * transformers' names, {@code eval_loss} first.
     */
    default void onEvaluate(int step, double epoch, Map<String, Double> metrics) {}

    /**
     * Early stopping's patience ran out at {@code step}: that step's checkpoint, written next, is the
     * run's last, and the run ends complete.
     */
    default void onStoppingEarly(int step) {}

    /** After a complete checkpoint was written (its manifest included). */
    default void onCheckpoint(int step, Path directory) {}
}
