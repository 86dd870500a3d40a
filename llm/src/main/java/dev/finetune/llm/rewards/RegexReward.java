package dev.finetune.llm.rewards;

import java.util.List;
import java.util.regex.Pattern;

/**
 * 1 if {@code pattern} is found in the completion's text (Java's {@code Matcher.find}: anchor with
 * {@code ^} and {@code $} to require the whole text), else 0. TRL's format rewards.
 */
record RegexReward(Pattern pattern) implements RewardFunction {
    static final String PREFIX = "regex:";

    @Override
    public String name() {
        return PREFIX + pattern.pattern();
    }

    @Override
    public double[] scores(List<Completion> completions) {
        double[] scores = new double[completions.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = pattern.matcher(completions.get(i).text()).find() ? 1 : 0;
        }
        return scores;
    }
}
