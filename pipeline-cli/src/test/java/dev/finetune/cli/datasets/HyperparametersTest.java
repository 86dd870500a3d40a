package dev.finetune.cli.datasets;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HyperparametersTest {
    @Test
    void setOptionsBecomeTypedJsonValues() {
        Map<String, String> given = new LinkedHashMap<>();
        given.put("learningRate", "2e-4");
        given.put("epochs", "3");
        given.put("useRslora", "true");
        given.put("lrScheduler", "cosine");
        given.put("targetModules", "q_proj, v_proj");
        assertThat(Hyperparameters.parse(given))
                .containsExactly(
                        Map.entry("learningRate", 2e-4),
                        Map.entry("epochs", 3L),
                        Map.entry("useRslora", true),
                        Map.entry("lrScheduler", "cosine"),
                        Map.entry("targetModules", List.of("q_proj", "v_proj")));
    }

    @Test
    void noSetOptionsIsAllDefaults() {
        assertThat(Hyperparameters.parse(null)).isEmpty();
    }
}
