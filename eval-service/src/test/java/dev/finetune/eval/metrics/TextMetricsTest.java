package dev.finetune.eval.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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
    void rougeLIsTheF1OfTheLongestCommonWordSubsequence() {
        // prediction "cat sat on mat" (4 words), reference "cat is on mat" (4): LCS "cat on mat" = 3,
        // P = R = 3/4, F1 = 0.75
        assertThat(RougeL.score("The cat sat on the mat.", "the cat is on the mat"))
                .isCloseTo(0.75, within(1e-12));
        // prediction "police killed gunman" (3), reference "police kill gunman" (3)... LCS 2: F1 = 2/3
        assertThat(RougeL.score("police killed the gunman", "police kill the gunman"))
                .isCloseTo(2.0 / 3, within(1e-12));
        // prediction 2 words, reference 6 words, LCS 2: P = 1, R = 1/3, F1 = 2 * 1/3 / (4/3) = 0.5
        assertThat(RougeL.score("42 apples", "there are 42 red shiny apples")).isCloseTo(0.5, within(1e-12));
        assertThat(RougeL.score("a b c", "x y z")).isEqualTo(0.0);
        assertThat(RougeL.score("", "")).isEqualTo(1.0);
        assertThat(RougeL.score("", "something")).isEqualTo(0.0);
    }
}
