package dev.finetune.llm.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.inference.TokenBatch;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.lora.LoraLinear;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The compiled decoding step against the op-by-op one on the same model: the same logits to the last
 * bit, for every family's layout (llama3 rope scaling and an untied head, mistral's sliding window,
 * qwen2's biases and tied head, qwen3's q/k norms), over left-padded rows, past the window and past
 * the cache's capacity; with LoRA adapters on, off, and with replaced weights; and the layers it does
 * not cover decode op by op.
 */
class CompiledDecodingTest {
    /** Left-padded to 9 columns: every row but one has padding, so the masked method runs. */
    private static final List<long[]> PROMPTS = List.of(
            new long[] {5, 17, 99}, new long[] {3, 44, 8, 120, 61, 9, 70, 2, 31}, new long[] {11, 12, 13, 14, 15});

    private static final int STEPS = 10;

    @ParameterizedTest
    @EnumSource(ModelType.class)
    void everyFamilyDecodesTheSameLogitsCompiledAsOpByOp(ModelType type) {
        try (CausalLm model = tinyModel(type, 31)) {
            assertThat(model.decodesCompiled()).isTrue();
            assertSameSteps(model, PROMPTS);
            assertSameSteps(model, List.of(PROMPTS.get(1))); // one row, no padding: the unmasked method
        }
    }

    @ParameterizedTest
    @EnumSource(ModelType.class)
    void everyFamilyChecksDraftsWithTheSameLogitsCompiledAsOpByOp(ModelType type) {
        try (CausalLm model = tinyModel(type, 37)) {
            assertSameExtensions(model, PROMPTS);
            assertSameExtensions(model, List.of(PROMPTS.get(1)));
        }
    }

    @Test
    void loraAdaptersDecodeTheSameCompiledWhetherOnOrOff() {
        try (CausalLm model = tinyModel(ModelType.QWEN2, 32)) {
            Adapters adapters = Adapters.apply(model, LoraConfig.defaults().withTargetModules("all-linear"), 5);
            randomizeUpdates(adapters);
            assertThat(model.decodesCompiled()).isTrue();
            float[] on = assertSameSteps(model, PROMPTS);
            assertSameExtensions(model, PROMPTS);
            float[] off;
            try (Adapters.Switch ignored = adapters.disabled()) {
                assertThat(model.decodesCompiled()).isTrue();
                off = assertSameSteps(model, PROMPTS);
            }
            assertThat(on).isNotEqualTo(off); // the adapters count, and switching them off is seen
            assertThat(assertSameSteps(model, PROMPTS)).isEqualTo(on);
        }
    }

    @Test
    void replacedWeightsAreTheOnesTheNextStepUses() {
        try (CausalLm model = tinyModel(ModelType.LLAMA, 33)) {
            float[] before = assertSameSteps(model, PROMPTS);
            Parameter down = model.namedParameters().get("model.layers.1.mlp.down_proj.weight");
            down.set(down.array().mul(2)); // a new array: Parameter.set closes the old one
            float[] after = assertSameSteps(model, PROMPTS);
            assertThat(after).isNotEqualTo(before);
        }
    }

    @Test
    void layersItDoesNotComputeDecodeOpByOp() {
        try (CausalLm dora = tinyModel(ModelType.QWEN3, 34);
                CausalLm quantised = tinyModel(ModelType.QWEN3, 34)) {
            Adapters.apply(dora, LoraConfig.defaults().withUseDora(true), 5);
            Adapters.apply(quantised, LoraConfig.defaults().withQuantizeBase(true), 5);
            assertThat(dora.decodesCompiled()).isFalse();
            assertThat(quantised.decodesCompiled()).isFalse();
            assertSameSteps(dora, PROMPTS); // falls back to the op-by-op step, and works
        }
    }

    @Test
    @SuppressWarnings("try")
    void threadsDecodingWithOneModelGetTheLogitsEachWouldAlone() throws Exception {
        try (CausalLm model = tinyModel(ModelType.QWEN3, 36)) {
            float[] alone = assertSameSteps(model, PROMPTS);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Callable<float[]> decoding = () -> {
                    Engines.inferenceThread(); // a new thread records for backward until prepared
                    assertThat(model.decodesCompiled()).isTrue();
                    return compiledSteps(model, PROMPTS);
                };
                List<Future<float[]>> both = pool.invokeAll(List.of(decoding, decoding));
                for (Future<float[]> result : both) {
                    assertThat(result.get()).containsExactly(alone);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void turningItOffDecodesOpByOp() {
        try (CausalLm model = tinyModel(ModelType.LLAMA, 35)) {
            model.setCompiledDecoding(false);
            assertThat(model.decodesCompiled()).isFalse();
        }
    }

    /**
     * Prefills two caches with {@code prompts} (their capacity too small: both grow), runs {@link
     * #STEPS} decoding steps of the same tokens through each, one compiled and one op by op, and
     * checks every step's logits are equal bit for bit. Returns the last step's logits.
     */
    private static float[] assertSameSteps(CausalLm model, List<long[]> prompts) {
        return steps(model, prompts, true);
    }

    /**
     * The last step's logits of {@link #STEPS} compiled decoding steps after {@code prompts}, the steps
     * {@link #assertSameSteps} runs; switches nothing on the model, so threads may share it.
     */
    private static float[] compiledSteps(CausalLm model, List<long[]> prompts) {
        return steps(model, prompts, false);
    }

    @SuppressWarnings("try")
    private static float[] steps(CausalLm model, List<long[]> prompts, boolean againstOpByOp) {
        NDManager manager = model.manager();
        TokenBatch batch = TokenBatch.leftPadded(prompts, 0);
        int rows = prompts.size();
        float[] last = null;
        try (KvCache compiled = model.newCache(batch.length() + 2);
                KvCache opByOp = againstOpByOp ? model.newCache(batch.length() + 2) : null;
                NDScope ignored = new NDScope()) {
            for (KvCache cache : againstOpByOp ? List.of(compiled, opByOp) : List.of(compiled)) {
                model.forwardLast(manager.create(batch.ids()), manager.create(batch.mask()), cache);
            }
            long[] next = new long[rows];
            for (int step = 0; step < STEPS; step++) {
                for (int r = 0; r < rows; r++) {
                    next[r] = (7L * step + 13L * r + 3) % model.config().vocabSize();
                }
                NDArray ids = manager.create(next).reshape(rows, 1);
                last = model.decode(ids, compiled).toFloatArray();
                if (againstOpByOp) {
                    model.setCompiledDecoding(false);
                    float[] reference = model.decode(ids, opByOp).toFloatArray();
                    model.setCompiledDecoding(true);
                    assertThat(last).as("step %d", step).containsExactly(reference);
                    assertThat(opByOp.length()).isEqualTo(compiled.length());
                }
            }
            assertThat(compiled.length()).isEqualTo(batch.length() + STEPS);
        }
        return last;
    }

    /**
     * Prefills two caches with {@code prompts}, then, as prompt lookup does, runs passes over 5 new
     * tokens per row (the last token and 4 drafts) through each, one compiled and one op by op, drops
     * 3 of them from the caches (rejected drafts) and decodes a step; checks the passes' and steps'
     * logits are equal bit for bit. Three rounds run the caches past their capacity and mistral's window.
     */
    @SuppressWarnings("try")
    private static void assertSameExtensions(CausalLm model, List<long[]> prompts) {
        NDManager manager = model.manager();
        TokenBatch batch = TokenBatch.leftPadded(prompts, 0);
        int rows = prompts.size();
        int vocab = model.config().vocabSize();
        try (KvCache compiled = model.newCache(batch.length() + 2);
                KvCache opByOp = model.newCache(batch.length() + 2);
                NDScope ignored = new NDScope()) {
            for (KvCache cache : List.of(compiled, opByOp)) {
                model.forwardLast(manager.create(batch.ids()), manager.create(batch.mask()), cache);
            }
            for (int round = 0; round < 3; round++) {
                long[] drafts = new long[rows * 5];
                for (int i = 0; i < drafts.length; i++) {
                    drafts[i] = (11L * round + 5L * i + 1) % vocab;
                }
                NDArray ids = manager.create(drafts).reshape(rows, 5);
                float[] fast = model.extend(ids, compiled).toFloatArray();
                model.setCompiledDecoding(false);
                float[] reference = model.extend(ids, opByOp).toFloatArray();
                model.setCompiledDecoding(true);
                assertThat(fast).as("pass %d", round).containsExactly(reference);
                compiled.truncate(compiled.length() - 3);
                opByOp.truncate(opByOp.length() - 3);
                NDArray next = manager.create(new long[rows]).reshape(rows, 1);
                float[] step = model.decode(next, compiled).toFloatArray();
                model.setCompiledDecoding(false);
                float[] stepReference = model.decode(next, opByOp).toFloatArray();
                model.setCompiledDecoding(true);
                assertThat(step).as("step after pass %d", round).containsExactly(stepReference);
            }
            assertThat(compiled.length()).isEqualTo(opByOp.length()).isEqualTo(batch.length() + 9);
        }
    }

    /** B starts at zero (the update is nothing): give every adapter a random update. */
    private static void randomizeUpdates(Adapters adapters) {
        SplittableRandom random = new SplittableRandom(9);
        for (LoraLinear layer : adapters.layers().values()) {
            Parameter b = layer.loraB();
            float[] values = new float[Math.toIntExact(b.shape().size())];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (random.nextGaussian() * 0.1);
            }
            b.array().set(values); // in place: the step sees it without being handed new arrays
        }
    }

    private static CausalLm tinyModel(ModelType type, long seed) {
        return TinyModelGenerator.create(
                TinyModels.config(type), seed, TinyModelGenerator.Initialization.TEST, Device.cpu());
    }
}
