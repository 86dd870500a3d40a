package dev.finetune.llm.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.testing.AdapterFixtures;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Which linears a target list selects; a llama with an untied lm_head, 2 layers. */
class TargetModulesTest {
    private static CausalLm model;

    @BeforeAll
    static void createModel() {
        model = AdapterFixtures.tinyModel(ModelType.LLAMA);
    }

    @AfterAll
    static void closeModel() {
        model.close();
    }

    private static List<String> paths(List<String> targets) {
        return TargetModules.resolve(model, targets).stream()
                .map(TargetModules.Site::path)
                .toList();
    }

    @Test
    void namesSelectThatModuleInEveryLayerInTreeOrder() {
        assertThat(paths(List.of("v_proj", "gate_proj")))
                .containsExactly(
                        "model.layers.0.self_attn.v_proj",
                        "model.layers.0.mlp.gate_proj",
                        "model.layers.1.self_attn.v_proj",
                        "model.layers.1.mlp.gate_proj");
    }

    @Test
    void aLongerSuffixSelectsOneLayer() {
        assertThat(paths(List.of("layers.1.mlp.down_proj"))).containsExactly("model.layers.1.mlp.down_proj");
        assertThat(paths(List.of("self_attn.q_proj")))
                .containsExactly("model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj");
    }

    @Test
    void allLinearIsEveryDecoderLinearButNotTheHead() {
        List<String> all = paths(List.of("all-linear"));

        assertThat(all).hasSize(14).noneMatch(path -> path.contains("lm_head"));
        assertThat(TargetModules.names(TargetModules.resolve(model, List.of("all-linear"))))
                .containsExactly("down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj");
    }

    @Test
    void anUnknownNameIsReportedWithTheAvailableNames() {
        assertThatThrownBy(() -> TargetModules.resolve(model, List.of("q_proj", "qproj")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"qproj\" matches no linear layer")
                .hasMessageContaining("[down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, v_proj]");
    }

    @Test
    void theHeadAndPartialNamesAreNotTargets() {
        assertThatThrownBy(() -> TargetModules.resolve(model, List.of("lm_head")))
                .hasMessageContaining("\"lm_head\" matches no linear layer")
                .hasMessageContaining("lm_head cannot be adapted");
        assertThatThrownBy(() -> TargetModules.resolve(model, List.of("proj")))
                .hasMessageContaining("\"proj\" matches no linear layer");
    }
}
