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
 * @param output the exported result ({@code final/}) if the run completed, else null
 */
public record TrainResult(int step, int totalSteps, int resumedFrom, double loss, Path lastCheckpoint, Path output) {
    public boolean completed() {
        return step >= totalSteps;
    }
}
