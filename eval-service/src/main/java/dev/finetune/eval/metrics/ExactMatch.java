package dev.finetune.eval.metrics;

/** 1 if prediction and reference are equal after {@link TextNormalizer normalisation}, else 0. */
public final class ExactMatch {
    private ExactMatch() {}

    public static double score(String prediction, String reference) {
        return TextNormalizer.normalize(prediction).equals(TextNormalizer.normalize(reference)) ? 1.0 : 0.0;
    }
}
