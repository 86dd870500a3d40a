package dev.finetune.cli.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SetOptionsTest {
    @Test
    void setOptionsBecomeTypedJsonValuesInTheCatalogsOrder() {
        Map<String, String> given = new LinkedHashMap<>();
        given.put("use_rslora", "true");
        given.put("learning_rate", "2e-4");
        given.put("num_train_epochs", "3");
        given.put("lr_scheduler_type", "cosine");
        given.put("lora_target_modules", "q_proj, v_proj");
        assertThat(SetOptions.parse(given))
                .containsExactly(
                        Map.entry("learning_rate", 2e-4),
                        Map.entry("num_train_epochs", 3.0),
                        Map.entry("lr_scheduler_type", "cosine"),
                        Map.entry("lora_target_modules", List.of("q_proj", "v_proj")),
                        Map.entry("use_rslora", true));
    }

    @Test
    void anotherSpellingOrABadValueIsRefusedBeforeAnythingIsSent() {
        assertThatThrownBy(() -> SetOptions.parse(Map.of("learningRate", "2e-4")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--set learningRate: learningRate is not a known setting; did you mean learning_rate?");
        assertThatThrownBy(() -> SetOptions.parse(Map.of("lora_r", "sixteen")))
                .hasMessage("--set lora_r: lora_r must be an integer, got \"sixteen\"");
    }

    @Test
    void noSetOptionsIsAllDefaults() {
        assertThat(SetOptions.parse(null)).isEmpty();
    }
}
