package dev.finetune.errors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
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

    /** A stored record with a derived getter, as the services write them. */
    record Manifest(String status, int lines) {
        public boolean isPrepared() {
            return "prepared".equals(status);
        }
    }

    @Test
    void aStrictMapperReadsBackWhatATypeWritesThroughADerivedGetterButStillRefusesTypos() throws Exception {
        ObjectMapper strict = new ObjectMapper()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .addHandler(new ReadOnlyProperties());
        String written = strict.writeValueAsString(new Manifest("prepared", 3));
        assertThat(written).contains("\"prepared\":true");
        assertThat(strict.readValue(written, Manifest.class)).isEqualTo(new Manifest("prepared", 3));
        assertThatThrownBy(() -> strict.readValue("{\"status\":\"prepared\",\"line\":3}", Manifest.class))
                .isInstanceOf(UnrecognizedPropertyException.class);
    }
}
