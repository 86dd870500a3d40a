package dev.finetune.llm.train;

import java.time.Duration;

/** Wall-clock bookkeeping of a run in this process: tokens per second of a step and time to the end. */
final class ProgressMeter {
    private final int firstStep;
    private final int totalSteps;
    private final long startNanos;
    private long stepStartNanos;

    /** Starts timing at {@code firstStep} (0, or the step a resumed run continues from). */
    ProgressMeter(int firstStep, int totalSteps) {
        this.firstStep = firstStep;
        this.totalSteps = totalSteps;
        this.startNanos = System.nanoTime();
        this.stepStartNanos = startNanos;
    }

    /** Timing of the step just completed. */
    record Lap(double tokensPerSecond, Duration eta) {}

    /**
     * Ends the current step's timing.
     *
     * @param stepsDone steps completed in total, including earlier processes
     * @param tokens real tokens the step processed
     */
    Lap lap(int stepsDone, int tokens) {
        long now = System.nanoTime();
        double stepSeconds = Math.max(1e-9, (now - stepStartNanos) / 1e9);
        stepStartNanos = now;
        double meanSeconds = (now - startNanos) / 1e9 / Math.max(1, stepsDone - firstStep);
        long remainingMillis = Math.round(meanSeconds * (totalSteps - stepsDone) * 1000);
        return new Lap(tokens / stepSeconds, Duration.ofMillis(Math.max(0, remainingMillis)));
    }

    /** Restarts the current step's clock (after a checkpoint, so saving does not count as step time). */
    void resetStepClock() {
        stepStartNanos = System.nanoTime();
    }
}
