package dev.finetune.llm.quant;

import static dev.finetune.llm.testing.AdapterFixtures.logits;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.lora.LoraLinear;
import dev.finetune.llm.lora.TargetModules;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Embedding;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.testing.AdapterFixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** QLoRA = LoRA with {@code quantizeBase}: the same adapters over NF4 base linears. */
class QloraTest {
    private static final LoraConfig QLORA = LoraConfig.defaults().withQuantizeBase(true);

    private static List<Nf4Linear> nf4Bases(CausalLm model) {
        List<Nf4Linear> bases = new ArrayList<>();
        for (TargetModules.Site site : TargetModules.decoderLinears(model)) {
            Module module = site.module() instanceof LoraLinear lora ? (Module) lora.base() : site.module();
            assertThat(module).as(site.path()).isInstanceOf(Nf4Linear.class);
            bases.add((Nf4Linear) module);
        }
        return bases;
    }

    @Test
    void everyDecoderLinearIsStoredAsNf4AndComputesAsItsDequantisedWeight() {
        try (CausalLm model = AdapterFixtures.tinyModel(ModelType.QWEN2);
                CausalLm dequantized = AdapterFixtures.tinyModel(ModelType.QWEN2)) {
            float[] fp32 = logits(model);
            Adapters adapters = Adapters.apply(model, QLORA, 2);
            float[] quantized = logits(model);
            float[] disabled;
            try (Adapters.Switch off = adapters.disabled()) {
                disabled = logits(model);
            }
            // The same model with every decoder linear's fp32 weight replaced by its NF4 round trip.
            for (TargetModules.Site site : TargetModules.decoderLinears(dequantized)) {
                Parameter weight = ((Linear) site.module()).weight();
                Nf4Weight nf4 = Nf4.quantize(
                        weight.array().toFloatArray(), weight.shape().getShape(), true);
                weight.set(Nf4Linear.of(nf4, null, dequantized.manager()).dequantize());
            }
            // ... and the embedding (the tied head) replaced by its int8 round trip, as an nf4 base stores it.
            Parameter table = ((Embedding) dequantized.body().embedTokens()).weight();
            Int8Weight int8 =
                    Int8.quantize(table.array().toFloatArray(), table.shape().getShape());
            table.set(Int8Linear.of(int8, null, dequantized.manager()).dequantize());

            assertThat(nf4Bases(model)).hasSize(14);
            assertThat(disabled).containsExactly(quantized);
            assertThat(AdapterFixtures.maxAbsDiff(quantized, logits(dequantized)))
                    .isLessThan(1e-5);
            // NF4 does change the model: with TEST-init weights (std 0.2, peaked attention) by several logits.
            assertThat(AdapterFixtures.maxAbsDiff(quantized, fp32)).isGreaterThan(1e-2);
            // Tiny matrices (64 x 128 ... 160 x 64) pay a little more for their fp32 group absmax than 4.127.
            assertThat(adapters.baseLinearBitsPerParameter()).isBetween(4.127, 4.14);
            assertThat(model.namedParameters().keySet())
                    .contains(
                            "model.layers.0.self_attn.q_proj.base_layer.bias",
                            "model.layers.0.self_attn.k_proj.base_layer.bias")
                    .noneMatch(name -> name.matches(".*_proj\\.(base_layer\\.)?weight"));
        }
    }

    @Test
    void trainingMovesOnlyTheAdaptersWhileTheCodesStayFixed() {
        try (CausalLm model = AdapterFixtures.tinyModel(ModelType.LLAMA)) {
            Adapters adapters = Adapters.apply(model, QLORA.withTargetModules("all-linear"), 2);
            List<int[]> codesBefore = new ArrayList<>();
            nf4Bases(model).forEach(base -> codesBefore.add(base.packedCodes().toUint8Array()));
            adapters.setTraining(true);

            float first = AdapterFixtures.sgdStep(adapters, 0.5f);
            float loss = first;
            for (int i = 0; i < 4; i++) {
                loss = AdapterFixtures.sgdStep(adapters, 0.5f);
            }

            assertThat(loss).isLessThan(first * 0.95f);
            List<Nf4Linear> bases = nf4Bases(model);
            for (int i = 0; i < bases.size(); i++) {
                assertThat(bases.get(i).packedCodes().toUint8Array()).containsExactly(codesBefore.get(i));
                assertThat(bases.get(i).packedCodes().hasGradient()).isFalse();
            }
        }
    }
}
