package dev.finetune.llm.optim;

/**
 * The learning rate of each optimizer step, as transformers' {@code get_scheduler}: a linear warmup
 * from 0 over {@code warmupSteps}, then constant, linear decay or half-cosine decay to 0 at
 * {@code totalSteps}. Step numbers count from 0, and step s uses {@code rate(s)} (so with warmup the
 * first update has rate 0, exactly as a transformers Trainer run). A pure function of the step: a
 * resumed run needs only the step to continue the schedule.
 *
 * @param type shape after warmup
 * @param peak the rate at the end of warmup
 * @param warmupSteps steps of linear warmup, 0 for none
 * @param totalSteps optimizer steps of the whole run
 */
public record LearningRateSchedule(ScheduleType type, double peak, int warmupSteps, int totalSteps) {
    public LearningRateSchedule {
        if (!(peak > 0) || Double.isInfinite(peak)) {
            throw new IllegalArgumentException("learning_rate must be > 0, got " + peak);
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmup_steps must be >= 0, got " + warmupSteps);
        }
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("total steps must be > 0, got " + totalSteps);
        }
    }

    /** The learning rate of optimizer step {@code step} (0-based). */
    public double rate(int step) {
        if (step < warmupSteps) {
            return peak * step / Math.max(1, warmupSteps);
        }
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return switch (type) {
            case CONSTANT -> peak;
            case LINEAR -> peak * Math.max(0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
        };
    }
}
