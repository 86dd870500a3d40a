package dev.finetune.llm.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Per-step scopes and the in-place cache: a long generation holds the same arrays throughout and its
 * native memory does not grow with its length. Runs in a JVM of its own (llm's memory-footprint
 * execution), as {@link MemoryFootprintTest} does.
 */
class GenerationMemoryTest {
    @Test
    void aLongGenerationKeepsItsArraysAndNativeMemoryFlat() {
        // A step's logits alone are 256 KiB here: a step that kept any of its temporaries would show.
        ModelConfig config = TinyModels.config(ModelType.QWEN3).toBuilder()
                .vocabSize(16384)
                .hiddenSize(128)
                .intermediateSize(352)
                .numHiddenLayers(4)
                .numAttentionHeads(8)
                .build();
        List<long[]> prompts = MemoryFootprintTest.randomSequences(4, 48, config.vocabSize());
        GenerationConfig sampling =
                GenerationConfig.greedy(1000).withSampling(1.0, 0.95, 3).withTopK(50);
        List<Integer> arrays = new ArrayList<>();
        List<Long> nativeBytes = new ArrayList<>(); // every 50 tokens from token 200
        try (CausalLm model =
                TinyModelGenerator.create(config, 10, TinyModelGenerator.Initialization.TEST, Device.cpu())) {
            Generator.generate(model, prompts, sampling.withMaxNewTokens(400)); // warm-up: JIT and allocator pools
            long start = System.nanoTime();
            List<long[]> generated = Generator.generate(model, prompts, sampling, (sequence, step, token) -> {
                if (sequence == 0 && step >= 200 && step % 50 == 0) {
                    arrays.add(model.manager().getManagedArrays().size()); // weights and the cache
                    nativeBytes.add(MemoryFootprintTest.nativeBytes());
                }
            });
            long[] growth = new long[nativeBytes.size() - 1];
            for (int i = 0; i < growth.length; i++) {
                growth[i] = nativeBytes.get(i + 1) - nativeBytes.get(i);
            }
            Arrays.sort(growth);
            long median = growth[growth.length / 2];
            long total = nativeBytes.get(nativeBytes.size() - 1) - nativeBytes.get(0);
            System.out.printf(
                    "memory: %s live arrays; RSS outside the Java heap from token 200 to 950: %+.1f MiB, median"
                            + " %+.2f MiB per 50 tokens; %.2f ms per step%n",
                    arrays.stream().distinct().toList(),
                    total / 1048576.0,
                    median / 1048576.0,
                    (System.nanoTime() - start) / 1000e6);
            assertThat(generated).allSatisfy(tokens -> assertThat(tokens).hasSize(1000));
            assertThat(arrays).as("live arrays").containsOnly(arrays.get(0));
            // A step that kept one logits array would add 12.5 MiB per 50 tokens; the allocator alone
            // sometimes grows by tens of MiB at once, so the median, not the total, is the leak check.
            assertThat(median).as("median growth per 50 tokens").isLessThan(4L << 20);
            assertThat(total).as("growth over 750 tokens").isLessThan(160L << 20);
        }
    }
}
