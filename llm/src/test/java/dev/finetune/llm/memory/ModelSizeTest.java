package dev.finetune.llm.memory;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.checkpoint.RopeConfig;
import dev.finetune.llm.lora.TargetModules;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.tiny.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ModelSizeTest {
    /** The count from the config is the module tree's, for every family's extras (biases, q/k norms, tied heads). */
    @ParameterizedTest(name = "{0}")
    @EnumSource(ModelType.class)
    void theConfigsCountIsTheModelTreesCount(ModelType type) {
        ModelConfig config = TinyModels.config(type);
        long linear = 0;
        long embedding = 0;
        long all = 0;
        try (CausalLm skeleton = new CausalLm(config, Device.cpu())) { // shapes only: nothing is set
            for (TargetModules.Site site : TargetModules.decoderLinears(skeleton)) {
                linear += ((Linear) site.module()).weight().shape().size();
            }
            for (Parameter parameter : skeleton.namedParameters().values()) {
                all += parameter.shape().size();
            }
            embedding = skeleton.namedParameters()
                    .get("model.embed_tokens.weight")
                    .shape()
                    .size();
        }

        ModelSize size = ModelSize.of(config);
        assertThat(size.linearWeights()).isEqualTo(linear);
        assertThat(size.embedding()).isEqualTo(embedding);
        assertThat(size.others()).isEqualTo(all - linear - embedding);
        assertThat(size.parameters()).isEqualTo(all);
    }

    /** Qwen3-0.6B: 0.44B parameters besides its (tied) embedding of 151,936 x 1,024, as its model card says. */
    @Test
    void qwen3ZeroPointSixBHasItsPublishedSize() {
        ModelConfig config = ModelConfig.builder(ModelType.QWEN3)
                .vocabSize(151_936)
                .hiddenSize(1024)
                .intermediateSize(3072)
                .numHiddenLayers(28)
                .numAttentionHeads(16)
                .numKeyValueHeads(8)
                .headDim(128)
                .maxPositionEmbeddings(40_960)
                .rope(RopeConfig.plain(1_000_000.0))
                .tieWordEmbeddings(true)
                .build();
        ModelSize size = ModelSize.of(config);

        assertThat(size.parameters()).isEqualTo(596_049_920L);
        assertThat(size.parameters() - 151_936L * 1024).isBetween(440_000_000L, 441_000_000L);
        // fp32 2.4 GB; int8 0.60 GB (the int8 embedding 0.16 GB of it, instead of 0.62 in fp32); nf4 0.39 GB
        long embeddingInt8 = 151_936L * 1024 + 4 * 151_936L; // codes and a scale per row
        assertThat(size.weightBytes(BaseDType.FP32)).isEqualTo(4 * 596_049_920L);
        assertThat(size.weightBytes(BaseDType.INT8))
                .isEqualTo(size.linearWeights() + embeddingInt8 + 4 * size.others());
        assertThat(size.weightBytes(BaseDType.NF4))
                .isEqualTo((long) Math.ceil(size.linearWeights() * 4.127 / 8) + embeddingInt8 + 4 * size.others());
        assertThat(size.mostPreciseWithin(2L << 30)).isEqualTo(BaseDType.INT8);
        assertThat(size.mostPreciseWithin(500_000_000L)).isEqualTo(BaseDType.NF4);
        assertThat(size.mostPreciseWithin(3L << 30)).isEqualTo(BaseDType.FP32);
    }
}
