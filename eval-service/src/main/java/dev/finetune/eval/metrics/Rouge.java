package dev.finetune.eval.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L as Google's {@code rouge-score} package computes them with its
 * defaults ({@code RougeScorer(["rouge1", "rouge2", "rougeL"])}, no stemmer), so our numbers can be
 * put next to the ones users get from {@code evaluate.load("rouge")}:
 *
 * <ul>
 *   <li>tokens: the text in lower case, every run of characters other than {@code a-z} and {@code
 *       0-9} a separator (so non-ASCII letters separate words too), empty tokens dropped;
 *   <li>ROUGE-N: the n-grams of both texts as multisets, overlap = the sum over n-grams of the
 *       smaller count; precision = overlap / prediction's n-grams, recall = overlap / reference's;
 *   <li>ROUGE-L: L = the length of the longest common token subsequence; precision = L /
 *       prediction's tokens, recall = L / reference's;
 *   <li>F-measure = 2PR / (P + R), 0 when P + R = 0, and every score 0 when either text has no
 *       tokens (two empty texts included, unlike SQuAD's exact match).
 * </ul>
 *
 * One step comes before rouge-score's: a leading reasoning block {@code <think>...</think>} is
 * dropped ({@link AnswerNormalizer#withoutThinkBlock}), as for exact match, so the empty block Qwen3
 * templates put before every answer does not count as two words "think".
 */
public final class Rouge {
    private static final Pattern SEPARATORS = Pattern.compile("[^a-z0-9]+");

    /** One ROUGE figure. */
    public record Score(double precision, double recall, double fmeasure) {
        static Score of(int overlap, int predicted, int referenced) {
            if (predicted == 0 || referenced == 0) {
                return new Score(0, 0, 0);
            }
            double precision = (double) overlap / predicted;
            double recall = (double) overlap / referenced;
            double f = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
            return new Score(precision, recall, f);
        }
    }

    /** The three F-measures of one prediction. */
    public record Scores(double rouge1, double rouge2, double rougeL) {}

    private Rouge() {}

    /** ROUGE-1, ROUGE-2 and ROUGE-L F-measures of {@code prediction} against {@code reference}. */
    public static Scores score(String prediction, String reference) {
        List<String> p = tokens(prediction);
        List<String> r = tokens(reference);
        return new Scores(
                rougeN(p, r, 1).fmeasure(),
                rougeN(p, r, 2).fmeasure(),
                rougeL(p, r).fmeasure());
    }

    /** rouge-score's tokenisation (after the think block is dropped). */
    public static List<String> tokens(String text) {
        String lower = AnswerNormalizer.withoutThinkBlock(text).toLowerCase(Locale.ROOT);
        List<String> tokens = new ArrayList<>();
        for (String token : SEPARATORS.split(lower)) {
            if (!token.isEmpty()) {
                tokens.add(token);
            }
        }
        return tokens;
    }

    public static Score rougeN(List<String> prediction, List<String> reference, int n) {
        Map<List<String>, Integer> predicted = ngrams(prediction, n);
        Map<List<String>, Integer> referenced = ngrams(reference, n);
        int overlap = 0;
        for (Map.Entry<List<String>, Integer> e : predicted.entrySet()) {
            overlap += Math.min(e.getValue(), referenced.getOrDefault(e.getKey(), 0));
        }
        return Score.of(overlap, Math.max(0, prediction.size() - n + 1), Math.max(0, reference.size() - n + 1));
    }

    public static Score rougeL(List<String> prediction, List<String> reference) {
        return Score.of(longestCommonSubsequence(prediction, reference), prediction.size(), reference.size());
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            counts.merge(tokens.subList(i, i + n), 1, Integer::sum);
        }
        return counts;
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
