package dev.finetune.llm.rewards;

import java.util.List;

/**
 * A length penalty: {@code -|n - target| / target}, n the completion's generated tokens (its stop
 * token included): 0 at the target, -1 at twice it or at none.
 */
record LengthReward(int target) implements RewardFunction {
    static final String PREFIX = "length:";

    @Override
    public String name() {
        return PREFIX + target;
    }

    @Override
    public double[] scores(List<Completion> completions) {
        double[] scores = new double[completions.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = -Math.abs(completions.get(i).completion().length - target) / (double) target;
        }
        return scores;
    }
}
