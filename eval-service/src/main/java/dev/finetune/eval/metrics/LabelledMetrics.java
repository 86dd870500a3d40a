package dev.finetune.eval.metrics;

/**
 * Metrics of labelled completions (KTO's unpaired preference data) from each completion's summed
 * log-probability {@code log p(completion | prompt)}. {@code reward_margin}: the mean over the
 * desirable completions minus the mean over the undesirable ones. A KTO policy's implicit reward is
 * beta times its log-probability minus the reference's (the base model), so TRL's {@code
 * rewards/margins} on these examples is beta times (checkpoint reward_margin - base reward_margin):
 * the reported improvement, as for DPO.
 *
 * @param margin reward_margin
 * @param desirable the number of desirable completions scored
 * @param undesirable the number of undesirable completions scored
 */
public record LabelledMetrics(double margin, int desirable, int undesirable) {
    /**
     * @param logProbs each completion's summed log-probability
     * @param desirable each completion's label
     * @throws IllegalArgumentException unless both labels occur: a margin needs both sides
     */
    public static LabelledMetrics of(float[] logProbs, boolean[] desirable) {
        if (logProbs.length != desirable.length) {
            throw new IllegalArgumentException(logProbs.length + " scores but " + desirable.length + " labels");
        }
        double desirableSum = 0;
        double undesirableSum = 0;
        int desirableCount = 0;
        for (int i = 0; i < logProbs.length; i++) {
            if (desirable[i]) {
                desirableSum += logProbs[i];
                desirableCount++;
            } else {
                undesirableSum += logProbs[i];
            }
        }
        int undesirableCount = logProbs.length - desirableCount;
        if (desirableCount == 0 || undesirableCount == 0) {
            throw new IllegalArgumentException("a reward margin needs desirable and undesirable completions, got "
                    + desirableCount + " and " + undesirableCount);
        }
        return new LabelledMetrics(
                desirableSum / desirableCount - undesirableSum / undesirableCount, desirableCount, undesirableCount);
    }
}
