package dev.finetune.llm.train;

import java.nio.file.Path;

/**
 * How a call of {@link Recipe#train} ended.
 *
 * @param step optimizer steps completed in total
 * @param totalSteps steps of the whole run
 * @param resumedFrom the step this process started from (0 for a fresh run)
 * @param loss mean loss of the last step (NaN if no step ran)
 * @param lastCheckpoint the newest checkpoint written or resumed from, or null
 * @param output the exported result ({@code final/}) if the run completed, else null; with
 *     load_best_model_at_end, the best checkpoint's weights
 * @param stoppedEarly whether early stopping ended the run before its last step (it is complete)
 * @param bestCheckpoint the checkpoint with the best metric_for_best_model, or null
 * @param bestMetric that metric's best value, or null without evaluations
 */
public record TrainResult(
        int step,
        int totalSteps,
        int resumedFrom,
        double loss,
        Path lastCheckpoint,
        Path output,
        boolean stoppedEarly,
        Path bestCheckpoint,
        Double bestMetric) {
    /** Whether the run reached its last step or stopped early: its result is exported. */
    public boolean completed() {
        return step >= totalSteps || stoppedEarly;
    }
}
