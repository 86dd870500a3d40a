package dev.finetune.llm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.inference.TokenBatch;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The in-place cache against whole-sequence forward passes: a prompt run in chunks through a cache
 * that has to grow, decoding steps that take their positions and padding from the cache, and rows
 * selected, reordered and repeated, all give the logits of running the whole sequence at once.
 */
class KvCacheTest {
    /** Left-padded to 9 columns; mistral's window of 6 is exceeded. */
    private static final List<long[]> PROMPTS = List.of(
            new long[] {5, 17, 99}, new long[] {3, 44, 8, 120, 61, 9, 70, 2, 31}, new long[] {11, 12, 13, 14, 15});

    /** fp32 with the terms summed in another order: a few units in the 6th digit of the largest logit. */
    private static final double TOLERANCE = 1e-5;

    @ParameterizedTest
    @EnumSource(ModelType.class)
    @SuppressWarnings("try")
    void chunkedPrefillIntoAGrowingCacheThenDecodingEqualsWholeSequences(ModelType type) {
        try (CausalLm model = tinyModel(type, 77);
                NDScope ignored = new NDScope()) {
            NDManager manager = model.manager();
            TokenBatch batch = TokenBatch.leftPadded(PROMPTS, 0);
            NDArray ids = manager.create(batch.ids()); // [3, 9]
            NDArray mask = manager.create(batch.mask());
            NDArray whole = model.forward(ids, mask, null); // [3, 9, V]

            try (KvCache cache = model.newCache(2)) { // too small: grows twice
                NDArray first = model.forward(
                        ids.get(new NDIndex(":, :4")), mask.get(new NDIndex(":, :4")), cache); // [3, 4, V]
                NDArray rest = model.forward(ids.get(new NDIndex(":, 4:")), mask, cache); // [3, 5, V]
                // Padding positions' outputs are meaningless (and differ): compare the real tokens'.
                NDArray real = mask.expandDims(2); // [3, 9, 1]
                assertClose(
                        first.mul(real.get(new NDIndex(":, :4"))),
                        whole.mul(real).get(new NDIndex(":, :4")));
                assertClose(
                        rest.mul(real.get(new NDIndex(":, 4:"))),
                        whole.mul(real).get(new NDIndex(":, 4:")));
                assertThat(cache.length()).isEqualTo(9);

                long[][] sequence = batch.ids();
                long[][] sequenceMask = batch.mask();
                long[] next = {7, 8, 9};
                for (int step = 0; step < 8; step++) { // past the window and past the capacity again
                    NDArray decoded = model.decode(manager.create(next).reshape(3, 1), cache); // [3, V]
                    sequence = append(sequence, next);
                    sequenceMask = append(sequenceMask, new long[] {1, 1, 1});
                    NDArray expected =
                            model.forwardLast(manager.create(sequence), manager.create(sequenceMask), null); // [3, V]
                    assertClose(decoded, expected);
                    next = new long[] {next[0] + 3, next[1] + 5, next[2] + 7};
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = ModelType.class,
            names = {"LLAMA", "QWEN3"})
    @SuppressWarnings("try")
    void selectedRowsContinueAsTheRowsTheyCopy(ModelType type) {
        try (CausalLm model = tinyModel(type, 78);
                NDScope ignored = new NDScope()) {
            NDManager manager = model.manager();
            TokenBatch batch = TokenBatch.leftPadded(PROMPTS, 0);
            long[] next = {21, 22, 23};
            NDArray expected;
            try (KvCache cache = model.newCache(16)) {
                model.forwardLast(manager.create(batch.ids()), manager.create(batch.mask()), cache);
                expected = model.decode(manager.create(next).reshape(3, 1), cache); // [3, V]
            }
            try (KvCache cache = model.newCache(16)) {
                model.forwardLast(manager.create(batch.ids()), manager.create(batch.mask()), cache);
                cache.selectRows(new long[] {2, 0, 0, 1}); // reordered, repeated; padding moves with its row

                NDArray selected =
                        model.decode(manager.create(new long[] {23, 21, 21, 22}).reshape(4, 1), cache);

                assertThat(cache.rows()).isEqualTo(4);
                assertClose(selected, expected.get(manager.create(new long[] {2, 0, 0, 1})));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = ModelType.class, names = "LLAMA")
    @SuppressWarnings("try")
    void decodingNeedsAFilledCacheOfTheSameRows(ModelType type) {
        try (CausalLm model = tinyModel(type, 79);
                NDScope ignored = new NDScope();
                KvCache cache = model.newCache(8)) {
            NDManager manager = model.manager();
            assertThatThrownBy(() -> model.decode(manager.create(new long[] {1}).reshape(1, 1), cache))
                    .hasMessage("a decoding step continues a cache of 1 rows; it holds 0 rows of 0 positions");
            model.forwardLast(manager.create(new long[][] {{4, 5}}), null, cache);
            assertThatThrownBy(() -> cache.selectRows(new long[] {1})).hasMessage("row 1 is not in the cache's 1 rows");
        }
    }

    @ParameterizedTest
    @EnumSource(ModelType.class)
    @SuppressWarnings("try")
    void anExtendingPassThenTruncationLeavesTheCacheOfTheKeptTokens(ModelType type) {
        try (CausalLm model = tinyModel(type, 80);
                NDScope ignored = new NDScope();
                KvCache cache = model.newCache(10)) {
            NDManager manager = model.manager();
            TokenBatch batch = TokenBatch.leftPadded(PROMPTS, 0);
            model.forwardLast(manager.create(batch.ids()), manager.create(batch.mask()), cache);
            long[][] drafts = {{7, 8, 9, 10}, {11, 12, 13, 14}, {15, 16, 17, 18}};

            NDArray extended = model.extend(manager.create(drafts), cache); // [3, 4, V]: grows the cache

            long[][] sequence = batch.ids();
            long[][] sequenceMask = batch.mask();
            for (int t = 0; t < 4; t++) {
                sequence = append(sequence, new long[] {drafts[0][t], drafts[1][t], drafts[2][t]});
                sequenceMask = append(sequenceMask, new long[] {1, 1, 1});
                NDArray expected =
                        model.forwardLast(manager.create(sequence), manager.create(sequenceMask), null); // [3, V]
                assertClose(extended.get(new NDIndex(":, {}", t)), expected);
            }
            cache.truncate(cache.length() - 2); // two draft tokens of each row rejected
            assertThat(cache.length()).isEqualTo(11);
            long[] next = {30, 31, 32};

            NDArray decoded = model.decode(manager.create(next).reshape(3, 1), cache); // [3, V]

            long[][] kept = new long[3][];
            long[][] keptMask = new long[3][];
            for (int b = 0; b < 3; b++) {
                kept[b] = Arrays.copyOf(sequence[b], 12);
                kept[b][11] = next[b];
                keptMask[b] = Arrays.copyOf(sequenceMask[b], 12);
            }
            assertClose(decoded, model.forwardLast(manager.create(kept), manager.create(keptMask), null));
        }
    }

    @ParameterizedTest
    @EnumSource(value = ModelType.class, names = "LLAMA")
    @SuppressWarnings("try")
    void truncationKeepsWrittenPositionsOnlyAndNeverDropsPadding(ModelType type) {
        try (CausalLm model = tinyModel(type, 81);
                NDScope ignored = new NDScope();
                KvCache cache = model.newCache(16)) {
            NDManager manager = model.manager();
            TokenBatch batch = TokenBatch.leftPadded(PROMPTS, 0);
            model.forwardLast(manager.create(batch.ids()), manager.create(batch.mask()), cache);

            assertThatThrownBy(() -> cache.truncate(10)).hasMessage("cannot truncate a cache of 9 positions to 10");
            assertThatThrownBy(() -> cache.truncate(-1)).hasMessage("cannot truncate a cache of 9 positions to -1");
            assertThatThrownBy(() -> cache.truncate(2)).hasMessage("position 2 of row 0 is padding");
            assertThat(cache.length())
                    .as("a refused truncation changes nothing")
                    .isEqualTo(9);
        }
    }

    private static CausalLm tinyModel(ModelType type, long seed) {
        return TinyModelGenerator.create(
                TinyModels.config(type), seed, TinyModelGenerator.Initialization.TEST, Device.cpu());
    }

    private static void assertClose(NDArray actual, NDArray expected) {
        assertThat(actual.getShape()).isEqualTo(expected.getShape());
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        double worst = 0;
        double largest = 1;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - e[i]));
            largest = Math.max(largest, Math.abs(e[i]));
        }
        assertThat(worst / largest)
                .as("largest difference relative to the largest logit " + largest)
                .isLessThan(TOLERANCE);
    }

    private static long[][] append(long[][] rows, long[] column) {
        long[][] result = new long[rows.length][];
        for (int b = 0; b < rows.length; b++) {
            result[b] = Arrays.copyOf(rows[b], rows[b].length + 1);
            result[b][rows[b].length] = column[b];
        }
        return result;
    }
}
