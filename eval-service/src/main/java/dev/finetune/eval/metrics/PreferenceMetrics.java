package dev.finetune.eval.metrics;

/**
 * Metrics of preference pairs from each pair's summed completion log-probabilities {@code log
 * p(chosen | prompt)} and {@code log p(rejected | prompt)}. {@code preference_accuracy}: the fraction
 * of pairs where the chosen completion is strictly more probable. {@code reward_margin}: the mean of
 * {@code log p(chosen) - log p(rejected)}. A DPO policy's implicit reward is beta times its
 * log-probability minus the reference's, so DPO's reward margin (TRL's {@code rewards/margins}) is
 * beta times (checkpoint reward_margin - base reward_margin): the reported improvement.
 *
 * @param accuracy preference_accuracy
 * @param margin reward_margin
 * @param pairs the number of pairs scored
 */
public record PreferenceMetrics(double accuracy, double margin, int pairs) {
    public static PreferenceMetrics of(float[] chosen, float[] rejected) {
        return of(doubles(chosen), doubles(rejected));
    }

    /** As {@link #of(float[], float[])}, for any score (a reward model's, for one). */
    public static PreferenceMetrics of(double[] chosen, double[] rejected) {
        requirePairs(chosen, rejected);
        int wins = 0;
        double margin = 0;
        for (int i = 0; i < chosen.length; i++) {
            wins += chosen[i] > rejected[i] ? 1 : 0;
            margin += chosen[i] - rejected[i];
        }
        return new PreferenceMetrics((double) wins / chosen.length, margin / chosen.length, chosen.length);
    }

    /**
     * The Bradley-Terry loss of the scores, {@code mean(-log sigmoid(chosen - rejected))}: what a reward
     * model is trained to lower (TRL's RewardTrainer with no margin), computed as {@code log(1 + exp(-m))}
     * without overflow for any margin m.
     */
    public static double bradleyTerryLoss(double[] chosen, double[] rejected) {
        requirePairs(chosen, rejected);
        double sum = 0;
        for (int i = 0; i < chosen.length; i++) {
            double m = chosen[i] - rejected[i];
            sum += m >= 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
        }
        return sum / chosen.length;
    }

    private static void requirePairs(double[] chosen, double[] rejected) {
        if (chosen.length != rejected.length) {
            throw new IllegalArgumentException(chosen.length + " chosen but " + rejected.length + " rejected scores");
        }
        if (chosen.length == 0) {
            throw new IllegalArgumentException("no preference pairs were scored");
        }
    }

    private static double[] doubles(float[] values) {
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = values[i];
        }
        return result;
    }
}
