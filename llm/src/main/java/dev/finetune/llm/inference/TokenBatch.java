package dev.finetune.llm.inference;

import java.util.List;

/**
 * Sequences of different lengths padded to one [B, T] block, with HuggingFace's attention mask
 * (1 = token, 0 = padding).
 */
public record TokenBatch(long[][] ids, long[][] mask) {

    /** Padding before the tokens: what generation needs, so every row ends at the same column. */
    public static TokenBatch leftPadded(List<long[]> sequences, long padId) {
        return pad(sequences, padId, true);
    }

    /** Padding after the tokens: what scoring and training use. */
    public static TokenBatch rightPadded(List<long[]> sequences, long padId) {
        return pad(sequences, padId, false);
    }

    private static TokenBatch pad(List<long[]> sequences, long padId, boolean left) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one sequence");
        }
        int length = 0;
        for (int i = 0; i < sequences.size(); i++) {
            if (sequences.get(i).length == 0) {
                throw new IllegalArgumentException("sequence " + i + " of the batch is empty");
            }
            length = Math.max(length, sequences.get(i).length);
        }
        long[][] ids = new long[sequences.size()][length];
        long[][] mask = new long[sequences.size()][length];
        for (int b = 0; b < ids.length; b++) {
            long[] tokens = sequences.get(b);
            int offset = left ? length - tokens.length : 0;
            java.util.Arrays.fill(ids[b], padId);
            System.arraycopy(tokens, 0, ids[b], offset, tokens.length);
            java.util.Arrays.fill(mask[b], offset, offset + tokens.length, 1L);
        }
        return new TokenBatch(ids, mask);
    }

    public int size() {
        return ids.length;
    }

    public int length() {
        return ids[0].length;
    }
}
