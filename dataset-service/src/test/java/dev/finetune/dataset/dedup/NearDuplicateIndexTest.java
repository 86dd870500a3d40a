package dev.finetune.dataset.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    void thresholdOutsideZeroToOneIsRefusedWithTheValue() {
        assertThatThrownBy(() -> new NearDuplicateIndex(1.5)).hasMessageContaining("got 1.5");
    }
}
