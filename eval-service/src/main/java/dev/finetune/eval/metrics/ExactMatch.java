package dev.finetune.eval.metrics;

/** 1 if prediction and reference are equal after {@link AnswerNormalizer normalisation}, else 0. */
public final class ExactMatch {
    private ExactMatch() {}

    public static double score(String prediction, String reference) {
        return AnswerNormalizer.normalize(prediction).equals(AnswerNormalizer.normalize(reference)) ? 1.0 : 0.0;
    }
}
