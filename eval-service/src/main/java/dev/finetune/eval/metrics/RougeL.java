package dev.finetune.eval.metrics;

import java.util.List;

/**
 * ROUGE-L F1 over words of the {@link AnswerNormalizer normalised} texts: with L the length of their
 * longest common subsequence, precision P = L / |prediction|, recall R = L / |reference|, and F1 =
 * 2PR / (P + R) (rouge-score's {@code rougeL} with beta = 1). Two empty texts score 1; one empty
 * text scores 0.
 */
public final class RougeL {
    private RougeL() {}

    public static double score(String prediction, String reference) {
        List<String> p = AnswerNormalizer.tokens(prediction);
        List<String> r = AnswerNormalizer.tokens(reference);
        if (p.isEmpty() || r.isEmpty()) {
            return p.isEmpty() && r.isEmpty() ? 1.0 : 0.0;
        }
        int lcs = longestCommonSubsequence(p, r);
        if (lcs == 0) {
            return 0.0;
        }
        double precision = (double) lcs / p.size();
        double recall = (double) lcs / r.size();
        return 2 * precision * recall / (precision + recall);
    }

    /** Classic dynamic programme, two rows: O(|a| |b|) time, O(|b|) memory. */
    static int longestCommonSubsequence(List<String> a, List<String> b) {
        int[] previous = new int[b.size() + 1];
        int[] current = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            for (int j = 1; j <= b.size(); j++) {
                current[j] =
                        a.get(i - 1).equals(b.get(j - 1)) ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.size()];
    }
}
