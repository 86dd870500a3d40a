package dev.finetune.llm.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoraConfigTest {

    @Test
    void defaultsArePeftsAttentionOnlyRank8Recipe() {
        LoraConfig config = LoraConfig.defaults();

        assertThat(config.r()).isEqualTo(8);
        assertThat(config.alpha()).isEqualTo(16);
        assertThat(config.dropout()).isEqualTo(0.05);
        assertThat(config.targetModules()).containsExactly("q_proj", "k_proj", "v_proj", "o_proj");
        assertThat(config.useRslora()).isFalse();
        assertThat(config.bias()).isEqualTo("none");
        assertThat(config.quantizeBase()).isFalse();
        assertThat(config.doubleQuantization()).isTrue();
        assertThat(config.scaling()).isEqualTo(2.0);
    }

    @Test
    void rsLoraScalesByAlphaOverSquareRootOfRank() {
        LoraConfig config = LoraConfig.defaults().withR(64).withAlpha(16);

        assertThat(config.scaling()).isEqualTo(0.25);
        assertThat(config.withUseRslora(true).scaling()).isCloseTo(2.0, within(1e-12));
    }

    @Test
    void badValuesAreNamedWithTheValue() {
        LoraConfig d = LoraConfig.defaults();
        assertThatThrownBy(() -> d.withR(0)).hasMessage("lora.r must be a positive integer, got 0");
        assertThatThrownBy(() -> d.withAlpha(-4)).hasMessage("lora.alpha must be a positive number, got -4");
        assertThatThrownBy(() -> d.withDropout(1.0)).hasMessage("lora.dropout must be in [0, 1), got 1.0");
        assertThatThrownBy(() -> d.withDropout(Double.NaN)).hasMessage("lora.dropout must be in [0, 1), got NaN");
        assertThatThrownBy(() -> d.withBias("all"))
                .hasMessageContaining("lora.bias must be \"none\"")
                .hasMessageEndingWith("got \"all\"");
        assertThatThrownBy(() -> d.withTargetModules(List.of()))
                .hasMessage("lora.target_modules must name at least one module, got []");
        assertThatThrownBy(() -> d.withTargetModules("q_proj", "")).hasMessageEndingWith("got \"\"");
        assertThatThrownBy(() -> d.withTargetModules("all-linear", "q_proj"))
                .hasMessageContaining("cannot be combined")
                .hasMessageEndingWith("[all-linear, q_proj]");
    }
}
