package dev.finetune.llm.objective;

import java.util.Arrays;

/**
 * Where a reward model reads each row: as transformers' {@code *ForSequenceClassification}, the last
 * token that is not {@code pad_token_id} ({@code (arange(T) * (input_ids != pad)).argmax(-1)}), so a
 * right-padded row is read at its last real token. A row of padding only is read at position 0, as
 * that argmax gives.
 *
 * <p>Dimension letters: R rows, T time.
 */
public final class LastTokens {
    private LastTokens() {}

    /** Each row's position of its last non-padding token [R]. */
    public static int[] positions(long[][] ids, long padId) {
        int[] positions = new int[ids.length];
        for (int row = 0; row < ids.length; row++) {
            for (int t = ids[row].length - 1; t > 0; t--) {
                if (ids[row][t] != padId) {
                    positions[row] = t;
                    break;
                }
            }
        }
        return positions;
    }

    /** {@link #positions} as a one-hot selector [R, T]: 1 at each row's last non-padding token. */
    public static float[][] oneHot(long[][] ids, long padId) {
        int[] positions = positions(ids, padId);
        float[][] selector = new float[ids.length][];
        for (int row = 0; row < ids.length; row++) {
            selector[row] = new float[ids[row].length];
            Arrays.fill(selector[row], 0f);
            selector[row][positions[row]] = 1f;
        }
        return selector;
    }
}
