package dev.finetune.eval.metrics;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SQuAD's token F1: the words of both {@link AnswerNormalizer normalised} answers as multisets,
 * common = the sum over words of the smaller count, precision = common / prediction's words, recall
 * = common / reference's, F1 = 2PR / (P + R), 0 when nothing is common. When either answer has no
 * words, 1 if both have none, else 0 (as SQuAD 2.0's script scores "no answer").
 */
public final class TokenF1 {
    private TokenF1() {}

    public static double score(String prediction, String reference) {
        List<String> p = AnswerNormalizer.tokens(prediction);
        List<String> r = AnswerNormalizer.tokens(reference);
        if (p.isEmpty() || r.isEmpty()) {
            return p.isEmpty() && r.isEmpty() ? 1.0 : 0.0;
        }
        Map<String, Integer> counts = new HashMap<>();
        for (String word : r) {
            counts.merge(word, 1, Integer::sum);
        }
        int common = 0;
        for (String word : p) {
            Integer left = counts.get(word);
            if (left != null && left > 0) {
                common++;
                counts.put(word, left - 1);
            }
        }
        if (common == 0) {
            return 0.0;
        }
        double precision = (double) common / p.size();
        double recall = (double) common / r.size();
        return 2 * precision * recall / (precision + recall);
    }
}
