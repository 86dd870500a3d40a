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
        ModelConfig config = config();
        List<long[]> prompts = MemoryFootprintTest.randomSequences(4, 48, config.vocabSize());
        GenerationConfig sampling =
                GenerationConfig.greedy(1000).withSampling(1.0, 0.95, 3).withTopK(50);

        assertFlat(config, prompts, sampling, TokenListener.NONE);
    }

    @Test
    void aLongGenerationWithPromptLookupKeepsItsArraysAndNativeMemoryFlat() {
        ModelConfig config = config();
        List<long[]> prompt = MemoryFootprintTest.randomSequences(1, 48, config.vocabSize());
        DraftTally drafts = new DraftTally(TokenListener.NONE);

        assertFlat(config, prompt, GenerationConfig.greedy(1000).withPromptLookup(10), drafts);

        assertThat(drafts.checks())
                .as("speculative steps, each truncating the cache")
                .isGreaterThan(20);
        assertThat(drafts.kept()).as("some drafts rejected").isLessThan(drafts.drafted());
    }

    /** A step's logits alone are 256 KiB here: a step that kept any of its temporaries would show. */
    private static ModelConfig config() {
        return TinyModels.config(ModelType.QWEN3).toBuilder()
                .vocabSize(16384)
                .hiddenSize(128)
                .intermediateSize(352)
                .numHiddenLayers(4)
                .numAttentionHeads(8)
                .build();
    }

    /** Generates with {@code generation}, telling {@code drafts} what speculative steps checked. */
    private static void assertFlat(
            ModelConfig config, List<long[]> prompts, GenerationConfig generation, TokenListener drafts) {
        List<Integer> arrays = new ArrayList<>();
        List<Long> nativeBytes = new ArrayList<>(); // every 50 tokens from token 200
        try (CausalLm model =
                TinyModelGenerator.create(config, 10, TinyModelGenerator.Initialization.TEST, Device.cpu())) {
            Generator.generate(model, prompts, generation.withMaxNewTokens(400)); // warm-up: JIT and allocator pools
            long start = System.nanoTime();
            TokenListener sampler = new TokenListener() {
                @Override
                public void onToken(int sequence, int step, long token) {
                    if (sequence == 0 && step >= 200 && step % 50 == 0) {
                        arrays.add(model.manager().getManagedArrays().size()); // weights and the cache
                        nativeBytes.add(MemoryFootprintTest.nativeBytes());
                    }
                }

                @Override
                public void onDraftChecked(int sequence, int drafted, int kept) {
                    drafts.onDraftChecked(sequence, drafted, kept);
                }
            };
            List<long[]> generated = Generator.generate(model, prompts, generation, sampler);
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
