package dev.finetune.llm.rewards;

import java.util.List;

/** 1 if the completion's text, trimmed, equals the prompt's reference, trimmed; else 0. */
record ExactMatchReward() implements RewardFunction {
    static final String NAME = "exact_match";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public double[] scores(List<Completion> completions) {
        double[] scores = new double[completions.size()];
        for (int i = 0; i < scores.length; i++) {
            Completion completion = completions.get(i);
            String reference = completion
                    .reference()
                    .orElseThrow(() -> new IllegalArgumentException(
                            "exact_match needs each prompt's reference")); // checked when the data is read
            scores[i] = completion.text().strip().equals(reference.strip()) ? 1 : 0;
        }
        return scores;
    }

    @Override
    public boolean needsReference() {
        return true;
    }
}
