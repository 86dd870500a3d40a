package dev.finetune.eval.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TextMetricsTest {
    @Test
    void normalisationLowercasesStripsPunctuationArticlesAndExtraWhitespace() {
        assertThat(AnswerNormalizer.normalize("  The Cat, sat on   a MAT!  ")).isEqualTo("cat sat on mat");
        assertThat(AnswerNormalizer.normalize("An apple\n\tthere.")).isEqualTo("apple there");
        assertThat(AnswerNormalizer.normalize("<think>\n\n</think>\n\nParis.")).isEqualTo("paris");
        assertThat(AnswerNormalizer.normalize("theory")).isEqualTo("theory"); // articles only as whole words
    }

    @Test
    void exactMatchComparesNormalisedTexts() {
        assertThat(ExactMatch.score("The answer is 42.", "answer is 42")).isEqualTo(1.0);
        assertThat(ExactMatch.score("Paris", "paris!")).isEqualTo(1.0);
        assertThat(ExactMatch.score("42", "43")).isEqualTo(0.0);
        assertThat(ExactMatch.score("answer is 42 indeed", "answer is 42")).isEqualTo(0.0);
    }

    @Test
    void rougeScoresAsRougeScoreDoesOnWorkedExamples() {
        // the cat sat on the mat (6 tokens) / the cat is on the mat (6): unigrams in common the x2,
        // cat, on, mat = 5; bigrams the-cat, on-the, the-mat = 3 of 5; LCS the cat on the mat = 5.
        assertScores(Rouge.score("The cat sat on the mat.", "the cat is on the mat"), 5.0 / 6, 3.0 / 5, 5.0 / 6);
        // Only a-z and 0-9 make words: "Café" gives "caf", which "cafe" does not match; the hyphen
        // and comma separate. caf au lait 2 cups / cafe au lait 2 cups: 4 of 5, 3 of 4, LCS 4 of 5.
        assertScores(Rouge.score("Café au-lait, 2 cups!", "cafe au lait 2 cups"), 0.8, 0.75, 0.8);
        // Repeated words count once per occurrence in the reference: 1 of 4 predicted, 1 of 2
        // referenced: F = 2 (1/4)(1/2) / (3/4) = 1/3; no bigram in common.
        assertScores(Rouge.score("the the the the", "the cat"), 1.0 / 3, 0, 1.0 / 3);
        // Qwen3's empty reasoning block before an answer is not part of it.
        assertScores(Rouge.score("<think>\n\n</think>\n\nParis is the capital.", "Paris is the capital"), 1, 1, 1);
        // No tokens on either side: 0, two empty texts included.
        assertScores(Rouge.score("", ""), 0, 0, 0);
        assertScores(Rouge.score("/", "w1"), 0, 0, 0);
        assertScores(Rouge.score("one", "one"), 1, 0, 1); // a single token has no bigram
    }

    @Test
    void rougePrecisionIsAgainstThePredictionAndRecallAgainstTheReference() {
        List<String> prediction = Rouge.tokens("42 apples");
        List<String> reference = Rouge.tokens("there are 42 red shiny apples");
        Rouge.Score l = Rouge.rougeL(prediction, reference);
        assertThat(l.precision()).isEqualTo(1.0);
        assertThat(l.recall()).isCloseTo(1.0 / 3, within(1e-12));
        assertThat(l.fmeasure()).isCloseTo(0.5, within(1e-12));
        Rouge.Score two = Rouge.rougeN(Rouge.tokens("red shiny apples"), reference, 2);
        assertThat(two.precision()).isEqualTo(1.0); // red-shiny, shiny-apples: both in the reference
        assertThat(two.recall()).isCloseTo(2.0 / 5, within(1e-12));
    }

    /** The dynamic programmes against plain definitions, on random token lists. */
    @Test
    void rougeAgreesWithItsDefinitionOnRandomTexts() {
        Random random = new Random(7);
        for (int trial = 0; trial < 500; trial++) {
            List<String> a = randomWords(random);
            List<String> b = randomWords(random);
            assertThat(Rouge.rougeL(a, b).fmeasure())
                    .isCloseTo(f(lcsByRecursion(a, b, 0, 0, new HashMap<>()), a.size(), b.size()), within(1e-12));
            for (int n = 1; n <= 2; n++) {
                assertThat(Rouge.rougeN(a, b, n).fmeasure())
                        .isCloseTo(f(overlapByMatching(a, b, n), a.size() - n + 1, b.size() - n + 1), within(1e-12));
            }
        }
    }

    @Test
    void tokenF1ComparesNormalisedWordMultisets() {
        // cat sat on mat / cat is on mat: 3 in common of 4 and 4
        assertThat(TokenF1.score("The cat sat on the mat", "cat is on the mat")).isCloseTo(0.75, within(1e-12));
        // 42 42 apples / 42 apples: the second 42 has no partner: P = 2/3, R = 1, F1 = 0.8
        assertThat(TokenF1.score("42 42 apples", "42 apples")).isCloseTo(0.8, within(1e-12));
        assertThat(TokenF1.score("red", "blue")).isEqualTo(0.0);
        assertThat(TokenF1.score("", "")).isEqualTo(1.0);
        assertThat(TokenF1.score("the", "a")).isEqualTo(1.0); // both only articles: no words either side
        assertThat(TokenF1.score("", "something")).isEqualTo(0.0);
    }

    private static void assertScores(Rouge.Scores scores, double rouge1, double rouge2, double rougeL) {
        assertThat(scores.rouge1()).as("rouge1").isCloseTo(rouge1, within(1e-12));
        assertThat(scores.rouge2()).as("rouge2").isCloseTo(rouge2, within(1e-12));
        assertThat(scores.rougeL()).as("rougeL").isCloseTo(rougeL, within(1e-12));
    }

    private static List<String> randomWords(Random random) {
        List<String> words = new ArrayList<>();
        int length = random.nextInt(9);
        for (int i = 0; i < length; i++) {
            words.add(String.valueOf((char) ('a' + random.nextInt(4))));
        }
        return words;
    }

    private static double f(int overlap, int predicted, int referenced) {
        if (predicted <= 0 || referenced <= 0 || overlap == 0) {
            return 0;
        }
        double p = (double) overlap / predicted;
        double r = (double) overlap / referenced;
        return 2 * p * r / (p + r);
    }

    /** LCS by its recursive definition. */
    private static int lcsByRecursion(List<String> a, List<String> b, int i, int j, Map<Integer, Integer> memo) {
        if (i == a.size() || j == b.size()) {
            return 0;
        }
        Integer known = memo.get(i * 100 + j);
        if (known != null) {
            return known;
        }
        int best = a.get(i).equals(b.get(j))
                ? 1 + lcsByRecursion(a, b, i + 1, j + 1, memo)
                : Math.max(lcsByRecursion(a, b, i + 1, j, memo), lcsByRecursion(a, b, i, j + 1, memo));
        memo.put(i * 100 + j, best);
        return best;
    }

    /** n-gram overlap by pairing each predicted n-gram with an unused equal reference n-gram. */
    private static int overlapByMatching(List<String> prediction, List<String> reference, int n) {
        List<List<String>> unused = new ArrayList<>();
        for (int i = 0; i + n <= reference.size(); i++) {
            unused.add(reference.subList(i, i + n));
        }
        int matched = 0;
        for (int i = 0; i + n <= prediction.size(); i++) {
            if (unused.remove(prediction.subList(i, i + n))) {
                matched++;
            }
        }
        return matched;
    }
}
