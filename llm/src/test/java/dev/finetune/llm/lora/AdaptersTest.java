package dev.finetune.llm.lora;

import static dev.finetune.llm.testing.AdapterFixtures.logits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.testing.AdapterFixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Adapters on whole tiny models (2 layers, hidden 64, vocabulary 128). */
class AdaptersTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(ModelType.class)
    void aFreshAdapterLeavesLogitsExactlyUnchanged(ModelType type) {
        try (CausalLm model = AdapterFixtures.tinyModel(type)) {
            float[] base = logits(model);
            Adapters adapters = Adapters.apply(model, LoraConfig.defaults().withTargetModules("all-linear"), 1);
            adapters.setTraining(true);

            assertThat(logits(model)).containsExactly(base);
        }
    }

    /**
     * DoRA's magnitude starts as the row norms of the stored weight (dequantised over int8 and nf4), so
     * the logits are those of the same model with the adapters off, dropout on or not.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(BaseDType.class)
    void aFreshDoraAdapterLeavesLogitsUnchanged(BaseDType dtype) {
        try (CausalLm model = AdapterFixtures.tinyModel(ModelType.QWEN2)) {
            LoraConfig dora = LoraConfig.defaults()
                    .withTargetModules("all-linear")
                    .withBaseDtype(dtype)
                    .withUseDora(true);
            Adapters adapters = Adapters.apply(model, dora, 1);
            float[] base;
            try (Adapters.Switch off = adapters.disabled()) {
                base = logits(model);
            }

            assertThat(AdapterFixtures.maxAbsDiff(logits(model), base)).isLessThan(1e-6);
            adapters.setTraining(true);
            assertThat(AdapterFixtures.maxAbsDiff(logits(model), base)).isLessThan(1e-6);
            assertThat(adapters.trainableParameters()).hasSize(2 * 7 * 3);
            assertThat(adapters.trainableParameters())
                    .containsKey("base_model.model.model.layers.1.mlp.up_proj.lora_magnitude_vector");
        }
    }

    @Test
    void trainableParametersArePeftNamedAdapterMatrices() {
        try (CausalLm model = AdapterFixtures.tinyModel(ModelType.QWEN3)) {
            Adapters adapters = Adapters.apply(model, LoraConfig.defaults(), 1);
            Map<String, Parameter> trainable = adapters.trainableParameters();

            assertThat(trainable).hasSize(2 * 4 * 2);
            // qwen3 tiny: hidden 64, 4 query heads and 2 key/value heads of dim 32
            assertThat(trainable
                            .get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")
                            .shape()
                            .getShape())
                    .containsExactly(8, 64);
            assertThat(trainable
                            .get("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight")
                            .shape()
                            .getShape())
                    .containsExactly(128, 8);
            assertThat(trainable
                            .get("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight")
                            .shape()
                            .getShape())
                    .containsExactly(64, 8);
            assertThat(trainable.keySet()).allMatch(name -> name.startsWith("base_model.model.model.layers."));
            assertThat(adapters.targetModuleNames()).containsExactly("k_proj", "o_proj", "q_proj", "v_proj");
            assertThat(adapters.trainableParameterCount()).isEqualTo(2 * 8 * ((64 + 128) * 2 + (64 + 64) * 2));
            assertThat(model.namedParameters())
                    .containsKeys(
                            "model.layers.0.self_attn.q_proj.base_layer.weight",
                            "model.layers.0.self_attn.q_proj.lora_A.weight",
                            "model.layers.0.mlp.gate_proj.weight");
        }
    }

    @Test
    void onlyAdapterParametersReceiveGradients() {
        try (CausalLm model = AdapterFixtures.tinyModel(ModelType.QWEN2)) {
            Adapters adapters = Adapters.apply(model, LoraConfig.defaults().withTargetModules("all-linear"), 1);
            adapters.setTraining(true);
            try (NDManager step = model.manager().newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(AdapterFixtures.loss(model, step));
            }

            Map<String, Parameter> all = model.namedParameters();
            long withGradient = all.entrySet().stream()
                    .filter(e -> e.getValue().array().hasGradient())
                    .peek(e -> assertThat(e.getKey()).matches(".*\\.lora_[AB]\\.weight"))
                    .count();
            assertThat(withGradient)
                    .isEqualTo(adapters.trainableParameters().size())
                    .isEqualTo(2 * 7 * 2);
            // B starts at zero, so only B's gradient is non-zero after the first backward pass.
            float[] gradB = adapters.trainableParameters()
                    .get("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight")
                    .array()
                    .getGradient()
                    .toFloatArray();
            assertThat(AdapterFixtures.maxAbs(gradB)).isGreaterThan(1e-6);
        }
    }

    @Test
    void trainingTheAdaptersLeavesEveryBaseWeightBitIdentical() {
        try (CausalLm model = AdapterFixtures.tinyModel(ModelType.LLAMA)) {
            Map<String, float[]> before = AdapterFixtures.snapshot(model.namedParameters());
            Adapters adapters = Adapters.apply(model, LoraConfig.defaults().withTargetModules("all-linear"), 3);
            adapters.setTraining(true);

            float first = AdapterFixtures.sgdStep(adapters, 0.5f);
            float loss = first;
            for (int i = 0; i < 4; i++) {
                loss = AdapterFixtures.sgdStep(adapters, 0.5f);
            }

            assertThat(loss).isLessThan(first * 0.95f);
            Map<String, float[]> after = AdapterFixtures.snapshot(model.namedParameters());
            before.forEach((name, values) -> {
                String wrapped = name.replaceFirst("\\.(\\w+_proj)\\.", ".$1.base_layer.");
                assertThat(after.get(after.containsKey(name) ? name : wrapped))
                        .as(name)
                        .containsExactly(values);
            });
        }
    }

    @Test
    void disabledGivesTheBaseModelsLogitsUntilClosed() {
        try (CausalLm model = AdapterFixtures.tinyModel(ModelType.MISTRAL)) {
            float[] base = logits(model);
            Adapters adapters = Adapters.apply(model, LoraConfig.defaults(), 5);
            AdapterFixtures.trainBriefly(adapters);
            float[] adapted = logits(model);

            float[] off;
            float[] nestedOff;
            try (Adapters.Switch outer = adapters.disabled()) {
                off = logits(model);
                try (Adapters.Switch inner = adapters.disabled()) {
                    nestedOff = logits(model);
                }
                assertThat(adapters.isEnabled()).isFalse();
            }

            assertThat(AdapterFixtures.maxAbsDiff(adapted, base)).isGreaterThan(1e-3);
            assertThat(off).containsExactly(base);
            assertThat(nestedOff).containsExactly(base);
            assertThat(adapters.isEnabled()).isTrue();
            assertThat(logits(model)).containsExactly(adapted);
        }
    }

    @Test
    void trainingModeDropoutIsReproducibleFromTheSeed() {
        float[][] runs = new float[3][];
        for (int run = 0; run < 3; run++) {
            try (CausalLm model = AdapterFixtures.tinyModel(ModelType.QWEN3)) {
                Adapters adapters = Adapters.apply(model, LoraConfig.defaults().withDropout(0.3), run == 2 ? 9 : 8);
                adapters.setTraining(true);
                AdapterFixtures.sgdStep(adapters, 0.5f);
                runs[run] = logits(model);
            }
        }

        assertThat(runs[1]).containsExactly(runs[0]);
        assertThat(AdapterFixtures.maxAbsDiff(runs[2], runs[0])).isGreaterThan(1e-4);
    }

    @Test
    void aModelCanBeAdaptedOnlyOnce() {
        try (CausalLm model = AdapterFixtures.tinyModel(ModelType.QWEN3)) {
            Adapters.apply(model, LoraConfig.defaults(), 1);

            assertThatThrownBy(() -> Adapters.apply(model, LoraConfig.defaults(), 1))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already has LoRA adapters");
        }
    }
}
