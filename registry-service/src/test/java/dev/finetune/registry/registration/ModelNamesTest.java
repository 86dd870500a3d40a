package dev.finetune.registry.registration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelNamesTest {
    @Test
    void defaultNameIsBaseModelDashDataset() {
        assertThat(new ModelNames(Map.of()).of("qwen3-0.6b", "support")).isEqualTo("qwen3-0.6b-support");
    }

    @Test
    void aMappingRenamesTheDefaultName() {
        assertThat(new ModelNames(Map.of("qwen3-0.6b-support", "support-bot")).of("qwen3-0.6b", "support"))
                .isEqualTo("support-bot");
    }

    @Test
    void longNamesAreCutTo128Characters() {
        String name = new ModelNames(Map.of()).of("b".repeat(100), "d".repeat(100));
        assertThat(name).hasSize(128).startsWith("b".repeat(100) + "-d");
    }

    @Test
    void anInvalidMappingTargetIsRefusedAtStartWithItsKey() {
        assertThatThrownBy(() -> new ModelNames(Map.of("a-b", "Not Valid")))
                .hasMessageContaining("pipeline.registry.model-names.a-b")
                .hasMessageContaining("Not Valid");
    }
}
