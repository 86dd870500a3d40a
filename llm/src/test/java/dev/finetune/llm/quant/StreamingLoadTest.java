package dev.finetune.llm.quant;

import static dev.finetune.llm.testing.AdapterFixtures.logits;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.checkpoint.ShardedSafetensors;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.lora.TargetModules;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.testing.ChildJvm;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A checkpoint is turned into the chosen storage tensor by tensor: the result is exactly the model
 * quantised after a fp32 load, and the peak while loading stays under the final resident size plus
 * about one fp32 tensor.
 */
class StreamingLoadTest {
    @TempDir
    Path dir;

    /** Reading each linear straight into int8 / NF4 makes the same codes as quantising the fp32 model. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = BaseDType.class,
            names = {"INT8", "NF4"})
    void loadingStraightIntoTheStorageEqualsQuantisingAfterAFp32Load(BaseDType dtype) throws IOException {
        Path checkpoint = dir.resolve("bf16");
        ModelConfig config = TinyModels.config(ModelType.QWEN2); // q/k/v biases, tied head
        try (CausalLm model =
                TinyModelGenerator.create(config, 31, TinyModelGenerator.Initialization.TEST, Device.cpu())) {
            model.save(checkpoint, DType.BF16, 20_000); // sharded: several tensors per shard, many shards
        }
        assertThat(checkpoint.resolve(ShardedSafetensors.INDEX_FILE)).exists();
        BaseStorage storage = BaseStorage.of(dtype);

        try (CausalLm streamed = CausalLm.load(checkpoint, Device.cpu(), storage);
                CausalLm quantizedLater = CausalLm.load(checkpoint, Device.cpu())) {
            Adapters.apply(quantizedLater, LoraConfig.defaults().withBaseDtype(dtype), 3); // fresh: adds nothing
            for (TargetModules.Site site : TargetModules.decoderLinears(streamed)) {
                assertThat(site.module()).as(site.path()).isInstanceOf(QuantizedLinear.class);
                assertThat(((QuantizedLinear) site.module()).dtype()).isEqualTo(dtype);
            }
            assertThat(streamed.namedParameters()).containsKey("model.layers.0.self_attn.q_proj.bias");
            assertThat(logits(streamed)).containsExactly(logits(quantizedLater));

            Adapters adapters = Adapters.apply(streamed, LoraConfig.defaults().withBaseDtype(dtype), 3);
            assertThat(adapters.layers()).hasSize(8); // the stored bases are adapted as they are
        }
    }

    /**
     * In a JVM of its own (fixed heap, malloc returning freed memory): loading a bf16 checkpoint whose
     * fp32 size is 196 MiB into int8 or NF4 peaks at the final resident size plus less than one fp32
     * tensor (3 MiB here) and some allocator slack, never near the fp32 model; an fp32 load peaks at
     * the model plus one staging block. Measured on this code (MiB over the resident size before):
     * nf4 +31 after, peak +31; int8 +53, peak +54; fp32 +196, peak +196.
     */
    @Test
    void loadingPeaksAtTheStoredModelPlusAboutOneTensor() throws Exception {
        ModelConfig config = TinyModels.config(ModelType.LLAMA).toBuilder()
                .vocabSize(1024)
                .hiddenSize(512)
                .intermediateSize(1536)
                .numHiddenLayers(16)
                .numAttentionHeads(8)
                .numKeyValueHeads(4)
                .headDim(64)
                .build();
        Path checkpoint = dir.resolve("model");
        Path warmup = dir.resolve("warmup");
        TinyModelGenerator.write(
                config,
                5,
                TinyModelGenerator.Initialization.huggingFace(config),
                DType.BF16,
                dev.finetune.llm.tiny.TokenizerFiles.NONE,
                checkpoint);
        TinyModelGenerator.write(TinyModels.config(ModelType.LLAMA), 6, warmup);
        long fp32Bytes = 4L * parameters(config);
        long largestTensorBytes = 4L * config.hiddenSize() * config.intermediateSize();

        for (String dtype : new String[] {"nf4", "int8", "fp32"}) {
            Map<String, Long> memory =
                    ChildJvm.run(StreamingLoadProbe.class, "160m", checkpoint.toString(), warmup.toString(), dtype);
            long peak = memory.get("peak") - memory.get("before");
            long stored = memory.get("after") - memory.get("before");
            System.out.printf(
                    "%s load of a %d MB fp32 model: resident +%d MB after, peak +%d MB%n",
                    dtype, fp32Bytes >> 20, stored >> 20, peak >> 20);

            if (!dtype.equals("fp32")) {
                assertThat(stored).as(dtype + " resident").isLessThan(fp32Bytes / 3);
            }
            assertThat(peak)
                    .as("%s peak (resident after +%d MB)", dtype, stored >> 20)
                    .isLessThan(stored + largestTensorBytes + (16L << 20));
        }
    }

    private static long parameters(ModelConfig config) {
        long hidden = config.hiddenSize();
        long kv = (long) config.numKeyValueHeads() * config.headDim();
        long layer = 2 * hidden * hidden + 2 * hidden * kv + 3 * hidden * config.intermediateSize() + 2 * hidden;
        return layer * config.numHiddenLayers() + 2 * config.vocabSize() * hidden + hidden;
    }
}
