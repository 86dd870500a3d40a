package dev.finetune.dataset.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.dataset.split.Splitter.Split;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SplitterTest {

    @Test
    void sameContentAlwaysLandsInTheSameSplit() {
        Splitter a = new Splitter(0.8, 0.1, 0.1);
        Splitter b = new Splitter(0.8, 0.1, 0.1);
        for (int i = 0; i < 200; i++) {
            assertThat(a.assign("example " + i)).isEqualTo(b.assign("example " + i));
        }
    }

    @Test
    void splitSizesFollowTheRatios() {
        Splitter splitter = new Splitter(0.8, 0.1, 0.1);
        Map<Split, Integer> counts = new EnumMap<>(Split.class);
        for (int i = 0; i < 20_000; i++) {
            counts.merge(splitter.assign("example " + i), 1, Integer::sum);
        }
        assertThat(counts.get(Split.TRAIN)).isBetween(15_700, 16_300);
        assertThat(counts.get(Split.VALIDATION)).isBetween(1_850, 2_150);
        assertThat(counts.get(Split.TEST)).isBetween(1_850, 2_150);
    }

    @Test
    void ratiosThatDoNotSumToOneAreRefused() {
        assertThatThrownBy(() -> new Splitter(0.8, 0.1, 0.2)).hasMessageContaining("test=0.2");
    }
}
