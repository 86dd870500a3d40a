package dev.finetune.errors;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class UnknownPropertyTest {
    private static final List<String> KNOWN = List.of("learningRate", "batchSize", "maxSteps", "loraR", "loraAlpha");

    @Test
    void aMisspellingOrAnotherCaseStyleSuggestsTheKnownName() {
        assertThat(UnknownProperty.closest("learning_rate", KNOWN)).contains("learningRate");
        assertThat(UnknownProperty.closest("batchsize", KNOWN)).contains("batchSize");
        assertThat(UnknownProperty.closest("max_step", KNOWN)).contains("maxSteps");
        assertThat(UnknownProperty.closest("lora_alhpa", KNOWN)).contains("loraAlpha");
    }

    @Test
    void aNameFarFromEveryKnownOneSuggestsNothing() {
        assertThat(UnknownProperty.closest("temperature", KNOWN)).isEmpty();
        assertThat(UnknownProperty.closest("x", List.of())).isEmpty();
    }

    @Test
    void editDistanceCountsInsertionsDeletionsAndSubstitutions() {
        assertThat(UnknownProperty.levenshtein("kitten", "sitting")).isEqualTo(3);
        assertThat(UnknownProperty.levenshtein("", "abc")).isEqualTo(3);
        assertThat(UnknownProperty.levenshtein("same", "same")).isZero();
    }
}
