package dev.finetune.llm.rewards;

import java.util.List;

/**
 * Scores completions, one number each (TRL's reward function). Called once per optimizer step with
 * all of the step's completions, so a reward model can score them in batches.
 */
public interface RewardFunction {
    /** The name in {@code reward_funcs} and in the metric {@code rewards/<name>/mean}. */
    String name();

    /** The reward of each completion, in order. */
    double[] scores(List<Completion> completions);

    /** Whether it compares with each prompt's {@code reference}, which the data must then have. */
    default boolean needsReference() {
        return false;
    }
}
