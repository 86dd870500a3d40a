package dev.finetune.dataset.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class NearDuplicateIndexTest {
    private static final String TEXT = "To reset your password, open Settings, choose Security, click Reset password "
            + "and follow the link we email you. The link is valid for thirty minutes.";

    @Test
    void textWithOneWordChangedIsANearDuplicate() {
        NearDuplicateIndex index = new NearDuplicateIndex(0.8);
        assertThat(index.isDuplicateOrAdd(TEXT)).isFalse();
        assertThat(index.isDuplicateOrAdd(TEXT.replace("thirty", "sixty"))).isTrue();
    }

    @Test
    void unrelatedTextIsKept() {
        NearDuplicateIndex index = new NearDuplicateIndex(0.8);
        index.isDuplicateOrAdd(TEXT);
        assertThat(index.isDuplicateOrAdd("Our office in Lyon is open Monday to Friday from nine to five, "
                        + "except on public holidays."))
                .isFalse();
    }

    @Test
    void caseAndWhitespaceDoNotMakeTextsDifferent() {
        NearDuplicateIndex index = new NearDuplicateIndex(0.95);
        index.isDuplicateOrAdd(TEXT);
        assertThat(index.isDuplicateOrAdd(TEXT.toUpperCase().replace(" ", "   ")))
                .isTrue();
    }

    @Test
    void estimateTracksTrueJaccardSimilarity() {
        NearDuplicateIndex index = new NearDuplicateIndex(0.8);
        String half = TEXT.substring(0, TEXT.length() / 2);
        double estimate = index.estimate(TEXT, half);
        // ~half the shingles are shared: J = |A∩B| / |A∪B| ≈ 0.5; 64 hashes give ±0.12 at 2σ
        assertThat(estimate).isBetween(0.35, 0.65);
    }

    @Test
    void examplesAreAlikeOnlyWhenEveryPartIsAlike() {
        NearDuplicateIndex index = new NearDuplicateIndex(0.85);
        String prompt = "Summarise the following support policy for a customer in two sentences.";
        assertThat(index.findOrAdd(List.of(prompt, TEXT), 1)).isEmpty();
        assertThat(index.findOrAdd(List.of(prompt, TEXT.replace("thirty", "sixty")), 2))
                .get()
                .extracting(NearDuplicateIndex.Match::original)
                .isEqualTo(1L);
        assertThat(index.findOrAdd(List.of(prompt.replace("two", "three"), "Something else entirely, at length."), 3))
                .isEmpty();
    }

    @Test
    void shortAnswersAreNotJudgedEvenUnderALongSharedPrompt() {
        NearDuplicateIndex index = new NearDuplicateIndex(0.85);
        String template = "Classify the sentiment of the review below as positive or negative. Review: ";
        assertThat(index.findOrAdd(List.of(template + "great phone", "positive"), 1))
                .isEmpty();
        assertThat(index.findOrAdd(List.of(template + "great price", "positive"), 2))
                .isEmpty();
    }

    @Test
    void aShortPromptMustBeEqualForTheExampleToBeANearDuplicate() {
        NearDuplicateIndex index = new NearDuplicateIndex(0.85);
        assertThat(index.findOrAdd(List.of("Hi", TEXT), 1)).isEmpty();
        assertThat(index.findOrAdd(List.of("Yo", TEXT), 2)).isEmpty();
        assertThat(index.findOrAdd(List.of("  HI ", TEXT), 3)).isPresent();
    }

    @Test
    void thresholdOutsideZeroToOneIsRefusedWithTheValue() {
        assertThatThrownBy(() -> new NearDuplicateIndex(1.5)).hasMessageContaining("got 1.5");
    }
}
