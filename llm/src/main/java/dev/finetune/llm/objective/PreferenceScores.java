package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.model.CausalLm;
import java.util.List;

/**
 * {@code log p(chosen | prompt)} and {@code log p(rejected | prompt)} of preference pairs under a
 * model, without gradients: DPO's precomputed reference, and preference accuracy in evaluation.
 * Each batch runs in its own NDScope.
 *
 * @param chosen log-probability of each pair's chosen completion
 * @param rejected log-probability of each pair's rejected completion
 */
public record PreferenceScores(float[] chosen, float[] rejected) {

    /** Scores {@code pairs} in batches of {@code batchSize}; call outside a gradient collector. */
    @SuppressWarnings("try")
    public static PreferenceScores of(CausalLm model, List<PreferencePair> pairs, int batchSize, long padId) {
        float[] chosen = new float[pairs.size()];
        float[] rejected = new float[pairs.size()];
        for (int start = 0; start < pairs.size(); start += batchSize) {
            List<PreferencePair> slice = pairs.subList(start, Math.min(pairs.size(), start + batchSize));
            try (NDScope ignored = new NDScope()) {
                NDArray rows = PreferenceBatch.of(slice, padId).sequenceLogProbs(model, model.manager()); // [2B]
                float[] values = rows.toFloatArray();
                System.arraycopy(values, 0, chosen, start, slice.size());
                System.arraycopy(values, slice.size(), rejected, start, slice.size());
            }
        }
        return new PreferenceScores(chosen, rejected);
    }

    /** The scores of the pairs at {@code indices}, in that order. */
    public PreferenceScores select(int[] indices) {
        float[] c = new float[indices.length];
        float[] r = new float[indices.length];
        for (int i = 0; i < indices.length; i++) {
            c[i] = chosen[indices[i]];
            r[i] = rejected[indices[i]];
        }
        return new PreferenceScores(c, r);
    }

    /**
     * These sums divided by each completion's token count: the mean log-probability per token.
     *
     * @param completionTokens the count of each row [2B] of the batch these pairs came from, chosen
     *     rows first ({@link PreferenceBatch#completionTokens})
     */
    public PreferenceScores perToken(float[] completionTokens) {
        int n = chosen.length;
        if (completionTokens.length != 2 * n) {
            throw new IllegalArgumentException(
                    "need a token count for each of " + 2 * n + " rows, got " + completionTokens.length);
        }
        float[] c = new float[n];
        float[] r = new float[n];
        for (int i = 0; i < n; i++) {
            c[i] = chosen[i] / completionTokens[i];
            r[i] = rejected[i] / completionTokens[n + i];
        }
        return new PreferenceScores(c, r);
    }

    /** Fraction of pairs whose chosen completion is strictly more probable than the rejected one. */
    public double preferenceAccuracy() {
        int correct = 0;
        for (int i = 0; i < chosen.length; i++) {
            correct += chosen[i] > rejected[i] ? 1 : 0;
        }
        return (double) correct / chosen.length;
    }
}
