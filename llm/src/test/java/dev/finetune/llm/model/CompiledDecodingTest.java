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
import dev.finetune.llm.testing.AdapterFixtures;
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

    /** Six rows: enough for packed products ({@link CompiledDecoding#MIN_PACKED_ROWS}). */
    private static final List<long[]> SIX_PROMPTS = List.of(
            PROMPTS.get(0),
            PROMPTS.get(1),
            PROMPTS.get(2),
            new long[] {7, 7, 7, 7},
            new long[] {100, 1, 30, 2, 125, 3, 90},
            new long[] {64});

    /** Packed products sum in another order: relative to the largest logit, a few float roundings. */
    private static final float PACKED_TOLERANCE = 1e-5f;

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

    @ParameterizedTest
    @EnumSource(ModelType.class)
    @SuppressWarnings("try")
    void batchesOfFourRowsOrMoreDecodeOnPackedWeightsWithinRounding(ModelType type) {
        try (CausalLm model = tinyModel(type, 41);
                Caches caches = Caches.prefilled(model, SIX_PROMPTS, true);
                NDScope ignored = new NDScope()) {
            caches.decode(0, STEPS, PACKED_TOLERANCE);
            assertThat(model.packedRows()).isEqualTo(6);
            assertThat(caches.compiled.length()).isEqualTo(caches.promptLength + STEPS);
        }
    }

    @Test
    @SuppressWarnings("try")
    void rowsLeavingTheBatchDecodeOnTheWeightsAsTheyAreAndTheNextBatchIsPackedForItsRows() {
        try (CausalLm model = tinyModel(ModelType.QWEN2, 42)) {
            try (Caches caches = Caches.prefilled(model, SIX_PROMPTS, true);
                    NDScope ignored = new NDScope()) {
                caches.decode(0, 3, PACKED_TOLERANCE);
                caches.keepRows(0, 2, 3, 4, 5); // a row finished
                caches.decodeUnpacked(3, 3); // not packed for five rows
                assertThat(model.packedRows())
                        .as("kept for the next batch of six")
                        .isEqualTo(6);
            }
            try (Caches caches = Caches.prefilled(model, SIX_PROMPTS.subList(0, 5), true);
                    NDScope ignored = new NDScope()) {
                caches.decode(0, 3, PACKED_TOLERANCE);
                assertThat(model.packedRows()).as("a new batch of five").isEqualTo(5);
            }
            try (Caches caches = Caches.prefilled(model, PROMPTS, true);
                    NDScope ignored = new NDScope()) {
                caches.decode(0, 3, 0f); // three rows: never packed
                assertThat(model.packedRows()).isEqualTo(5);
            }
        }
    }

    @Test
    @SuppressWarnings("try")
    void weightsReplacedDuringABatchArePackedAgain() {
        try (CausalLm model = tinyModel(ModelType.LLAMA, 43);
                Caches caches = Caches.prefilled(model, SIX_PROMPTS, true);
                NDScope ignored = new NDScope()) {
            float[] before = caches.decode(0, 2, PACKED_TOLERANCE);
            Parameter down = model.namedParameters().get("model.layers.1.mlp.down_proj.weight");
            down.set(down.array().mul(2)); // stale packed copies would give the old weights' logits
            float[] after = caches.decode(2, 3, PACKED_TOLERANCE);
            assertThat(after).isNotEqualTo(before);
            assertThat(model.packedRows()).isEqualTo(6);
        }
    }

    @Test
    @SuppressWarnings("try")
    void weightsWithAGradientAreNeverPacked() {
        try (CausalLm model = tinyModel(ModelType.QWEN3, 44)) {
            NDArray query = model.namedParameters()
                    .get("model.layers.0.self_attn.q_proj.weight")
                    .array();
            try (Caches caches = Caches.prefilled(model, SIX_PROMPTS, true);
                    NDScope ignored = new NDScope()) {
                caches.decode(0, 2, PACKED_TOLERANCE);
                assertThat(model.packedRows()).isEqualTo(6);
                query.setRequiresGradient(true); // trained from now on: it may change in place
                caches.decodeUnpacked(2, 3);
                assertThat(model.packedRows()).as("the copies are freed").isZero();
            }
        }
    }

    @Test
    @SuppressWarnings("try")
    void turningPackedProductsOffFreesThemAndDecodesBitForBit() {
        try (CausalLm model = tinyModel(ModelType.MISTRAL, 45);
                Caches caches = Caches.prefilled(model, SIX_PROMPTS, true);
                NDScope ignored = new NDScope()) {
            caches.decode(0, 2, PACKED_TOLERANCE);
            model.setPackedProducts(false);
            assertThat(model.packedRows()).isZero();
            caches.decodeUnpacked(2, 3);
            model.setPackedProducts(true);
            caches.decode(5, 2, PACKED_TOLERANCE);
            assertThat(model.packedRows())
                    .as("packed again for the batch's rows")
                    .isEqualTo(6);
        }
    }

    @Test
    @SuppressWarnings("try")
    void modelsWhoseProductWeightsExceedTheBoundAreNotPacked() {
        System.setProperty(CompiledDecoding.PACKED_PRODUCTS_MB_PROPERTY, "0");
        try (CausalLm model = tinyModel(ModelType.LLAMA, 46);
                Caches caches = Caches.prefilled(model, SIX_PROMPTS, true);
                NDScope ignored = new NDScope()) {
            caches.decode(0, 3, 0f); // unpacked from the start: bit for bit
            assertThat(model.packedRows()).isZero();
        } finally {
            System.clearProperty(CompiledDecoding.PACKED_PRODUCTS_MB_PROPERTY);
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
        try (Caches caches = Caches.prefilled(model, prompts, againstOpByOp);
                NDScope ignored = new NDScope()) {
            float[] last = caches.decode(0, STEPS, 0f);
            assertThat(caches.compiled.length()).isEqualTo(caches.promptLength + STEPS);
            return last;
        }
    }

    /**
     * A compiled cache and, when compared, an op-by-op one, prefilled with the same left-padded
     * prompts (their capacity too small: both grow).
     */
    private record Caches(CausalLm model, KvCache compiled, KvCache opByOp, int promptLength) implements AutoCloseable {
        static Caches prefilled(CausalLm model, List<long[]> prompts, boolean againstOpByOp) {
            NDManager manager = model.manager();
            TokenBatch batch = TokenBatch.leftPadded(prompts, 0);
            Caches caches = new Caches(
                    model,
                    model.newCache(batch.length() + 2),
                    againstOpByOp ? model.newCache(batch.length() + 2) : null,
                    batch.length());
            try (NDScope ignored = new NDScope()) {
                NDArray ids = manager.create(batch.ids());
                NDArray mask = manager.create(batch.mask());
                float[] logits = model.forwardLast(ids, mask, caches.compiled).toFloatArray();
                if (againstOpByOp) {
                    model.setCompiledDecoding(false);
                    float[] reference =
                            model.forwardLast(ids, mask, caches.opByOp).toFloatArray();
                    model.setCompiledDecoding(true);
                    assertThat(logits).as("the prompts' pass").containsExactly(reference);
                }
            }
            return caches;
        }

        /**
         * Runs decoding steps {@code from} to {@code from + count} of the same tokens through both
         * caches, compiled and op by op, checking every step's logits agree: bit for bit when {@code
         * tolerance} is 0, else within it, relative to the largest logit. Returns the last step's logits.
         */
        float[] decode(int from, int count, float tolerance) {
            NDManager manager = model.manager();
            int rows = compiled.rows();
            float[] last = null;
            for (int step = from; step < from + count; step++) {
                NDArray ids = manager.create(tokens(step, rows)).reshape(rows, 1);
                last = model.decode(ids, compiled).toFloatArray();
                if (opByOp != null) {
                    model.setCompiledDecoding(false);
                    float[] reference = model.decode(ids, opByOp).toFloatArray();
                    model.setCompiledDecoding(true);
                    if (tolerance == 0f) {
                        assertThat(last).as("step %d", step).containsExactly(reference);
                    } else {
                        assertThat(AdapterFixtures.maxAbsDiff(last, reference))
                                .as("step %d", step)
                                .isLessThanOrEqualTo(tolerance * AdapterFixtures.maxAbs(reference));
                    }
                    assertThat(opByOp.length()).isEqualTo(compiled.length());
                }
            }
            return last;
        }

        /**
         * Runs decoding steps {@code from} to {@code from + count} and checks each compiled step runs
         * unpacked: its logits equal, bit for bit, the op-by-op step's over the same cache (the compiled
         * cache holds packed steps' keys, which the op-by-op cache does not: each step runs compiled,
         * is forgotten, and runs op by op over the same cache). The op-by-op cache takes the steps too.
         */
        void decodeUnpacked(int from, int count) {
            NDManager manager = model.manager();
            int rows = compiled.rows();
            for (int step = from; step < from + count; step++) {
                NDArray ids = manager.create(tokens(step, rows)).reshape(rows, 1);
                float[] fast = model.decode(ids, compiled).toFloatArray();
                compiled.truncate(compiled.length() - 1);
                model.setCompiledDecoding(false);
                float[] reference = model.decode(ids, compiled).toFloatArray();
                model.decode(ids, opByOp);
                model.setCompiledDecoding(true);
                assertThat(fast).as("step %d", step).containsExactly(reference);
            }
        }

        /** Step {@code step}'s token for each of {@code rows} rows. */
        private long[] tokens(int step, int rows) {
            long[] next = new long[rows];
            for (int r = 0; r < rows; r++) {
                next[r] = (7L * step + 13L * r + 3) % model.config().vocabSize();
            }
            return next;
        }

        /** Keeps these rows of both caches, as generation does when the other rows finish. */
        void keepRows(long... rows) {
            compiled.selectRows(rows);
            if (opByOp != null) {
                opByOp.selectRows(rows);
            }
        }

        @Override
        public void close() {
            compiled.close();
            if (opByOp != null) {
                opByOp.close();
            }
        }
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
        int rows = prompts.size();
        int vocab = model.config().vocabSize();
        try (Caches caches = Caches.prefilled(model, prompts, true);
                NDScope ignored = new NDScope()) {
            KvCache compiled = caches.compiled;
            KvCache opByOp = caches.opByOp;
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
            assertThat(compiled.length()).isEqualTo(opByOp.length()).isEqualTo(caches.promptLength + 9);
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
