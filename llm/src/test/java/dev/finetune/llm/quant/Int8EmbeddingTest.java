package dev.finetune.llm.quant;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.Embedding;
import dev.finetune.llm.model.TokenEmbedding;
import dev.finetune.llm.testing.AdapterFixtures;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The int8 token embedding on fixed tensors: lookup gives the dequantised rows, and the head, which
 * runs a block of the vocabulary at a time with a running log-sum-exp, gives the log-probs and the
 * gradient with respect to the hidden states of the plain fp32 head on the dequantised table, both
 * checked against a double-precision computation here.
 */
class Int8EmbeddingTest {
    private static final int VOCABULARY = 50;
    private static final int CHANNELS = 8;
    /** 16 rows a block: 4 blocks, the last of 2 rows, so the running maximum moves between blocks. */
    private static final long BLOCK_BYTES = 16L * CHANNELS * Float.BYTES;

    private static final long[] NEXT = {3, 49, 17, 0, 33, 48};
    private static final float[] WEIGHTS = {-0.2f, 0.7f, -1.0f, 0.1f, -0.4f, 0.9f};

    /** A table [V, C] whose rows have very different ranges, and hidden states [n, C] wide enough to give peaked softmaxes. */
    private static float[] table() {
        SplittableRandom random = new SplittableRandom(5);
        float[] values = AdapterFixtures.gaussian(random, VOCABULARY * CHANNELS);
        for (int v = 0; v < VOCABULARY; v++) {
            for (int c = 0; c < CHANNELS; c++) {
                values[v * CHANNELS + c] *= 0.05f + 0.1f * (v % 7);
            }
        }
        return values;
    }

    private static float[] hidden() {
        float[] values = AdapterFixtures.gaussian(new SplittableRandom(9), NEXT.length * CHANNELS);
        for (int i = 0; i < values.length; i++) {
            values[i] *= 4f;
        }
        return values;
    }

    private static Embedding fp32(NDManager manager, float[] table) {
        Embedding embedding = new Embedding(VOCABULARY, CHANNELS);
        embedding.weight().set(manager.create(table, new Shape(VOCABULARY, CHANNELS)));
        return embedding;
    }

    /** The test's own per-row absmax int8 round trip, in doubles: value = rint(x * 127 / absmax) * absmax / 127. */
    private static double[] dequantizedReference(float[] table) {
        double[] out = new double[table.length];
        for (int v = 0; v < VOCABULARY; v++) {
            double absmax = 0;
            for (int c = 0; c < CHANNELS; c++) {
                absmax = Math.max(absmax, Math.abs(table[v * CHANNELS + c]));
            }
            for (int c = 0; c < CHANNELS; c++) {
                double code = Math.rint(table[v * CHANNELS + c] * (127 / absmax));
                out[v * CHANNELS + c] = code * (absmax / 127);
            }
        }
        return out;
    }

    private static double relativeError(float[] actual, double[] expected) {
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < expected.length; i++) {
            diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        return diff / scale;
    }

    private static double relativeError(float[] actual, float[] expected) {
        double[] wide = new double[expected.length];
        for (int i = 0; i < wide.length; i++) {
            wide[i] = expected[i];
        }
        return relativeError(actual, wide);
    }

    @Test
    void lookupGivesTheDequantisedRowsOfTheIdsOnly() {
        float[] table = table();
        double[] expected = dequantizedReference(table);
        long[][] ids = {{4, 0, 49}, {13, 13, 27}};
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            Int8Embedding embedding = Int8Embedding.quantize(fp32(manager, table), BLOCK_BYTES, manager);

            float[] rows = embedding.forward(manager.create(ids)).toFloatArray(); // [2, 3, C]

            double[] wanted = new double[rows.length];
            int at = 0;
            for (long[] row : ids) {
                for (long id : row) {
                    System.arraycopy(expected, (int) id * CHANNELS, wanted, at, CHANNELS);
                    at += CHANNELS;
                }
            }
            assertThat(relativeError(rows, wanted)).isLessThan(1e-6);
            assertThat(embedding.trains()).isFalse();
            assertThat(embedding.residentBytes()).isEqualTo(VOCABULARY * CHANNELS + 4L * VOCABULARY);
        }
    }

    @Test
    void blockedLogitsEqualTheFp32HeadOnTheDequantisedTable() {
        float[] table = table();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            Int8Embedding int8 = Int8Embedding.quantize(fp32(manager, table), BLOCK_BYTES, manager);
            Embedding plain = fp32(manager, int8.dequantize(manager).toFloatArray());
            NDArray hidden = manager.create(hidden(), new Shape(2, 3, CHANNELS)); // [B, T, C]

            NDArray logits = int8.logits(hidden);

            assertThat(logits.getShape()).isEqualTo(new Shape(2, 3, VOCABULARY));
            assertThat(relativeError(logits.toFloatArray(), plain.logits(hidden).toFloatArray()))
                    .isLessThan(1e-6);
        }
    }

    /**
     * log p and d(sum w log p)/d hidden of the blocked int8 head against the plain fp32 head on the
     * dequantised table (one [n, V] log-softmax, autograd) and against doubles:
     * {@code d log p_i / d h_i = W[y_i] - sum_v softmax_iv W[v]}.
     */
    @Test
    void logProbsAndHiddenGradientEqualThePlainFp32HeadOnTheDequantisedTable() {
        float[] table = table();
        double[] w = dequantizedReference(table);
        float[] hiddenValues = hidden();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            Int8Embedding int8 = Int8Embedding.quantize(fp32(manager, table), BLOCK_BYTES, manager);
            Embedding plain = fp32(manager, int8.dequantize(manager).toFloatArray());
            float[][] blocked = logProbsAndGradient(int8, hiddenValues, manager);
            float[][] unblocked = logProbsAndGradient(plain, hiddenValues, manager);

            double[] logProb = new double[NEXT.length];
            double[] gradient = new double[hiddenValues.length];
            for (int i = 0; i < NEXT.length; i++) {
                double[] z = new double[VOCABULARY];
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < VOCABULARY; v++) {
                    for (int c = 0; c < CHANNELS; c++) {
                        z[v] += hiddenValues[i * CHANNELS + c] * w[v * CHANNELS + c];
                    }
                    max = Math.max(max, z[v]);
                }
                double sum = 0;
                for (double zv : z) {
                    sum += Math.exp(zv - max);
                }
                double logSumExp = max + Math.log(sum);
                logProb[i] = z[(int) NEXT[i]] - logSumExp;
                for (int c = 0; c < CHANNELS; c++) {
                    double expected = 0;
                    for (int v = 0; v < VOCABULARY; v++) {
                        expected += Math.exp(z[v] - logSumExp) * w[v * CHANNELS + c];
                    }
                    gradient[i * CHANNELS + c] = WEIGHTS[i] * (w[(int) NEXT[i] * CHANNELS + c] - expected);
                }
            }

            assertThat(relativeError(blocked[0], unblocked[0])).isLessThan(1e-6);
            assertThat(relativeError(blocked[1], unblocked[1])).isLessThan(1e-6);
            assertThat(relativeError(blocked[0], logProb)).isLessThan(1e-6);
            assertThat(relativeError(blocked[1], gradient)).isLessThan(1e-6);
            assertThat(java.util.Arrays.stream(logProb).max().orElseThrow())
                    .isLessThan(-0.01); // no row is a certainty: every row has a gradient
        }
    }

    /** {log p [n], d(sum w log p)/d hidden [n, C]} from one recorded pass. */
    private static float[][] logProbsAndGradient(TokenEmbedding head, float[] hiddenValues, NDManager manager) {
        NDArray hidden = manager.create(hiddenValues, new Shape(NEXT.length, CHANNELS)); // [n, C]
        hidden.setRequiresGradient(true);
        NDArray weights = manager.create(WEIGHTS);
        float[] logProbs;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray logProb = head.logProbs(hidden, manager.create(NEXT)); // [n]
            logProbs = logProb.toFloatArray();
            collector.backward(logProb.mul(weights).sum());
        }
        return new float[][] {logProbs, hidden.getGradient().toFloatArray()};
    }

    @Test
    void unrecordedLogProbsEqualRecordedOnes() {
        float[] table = table();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            Int8Embedding int8 = Int8Embedding.quantize(fp32(manager, table), BLOCK_BYTES, manager);
            NDArray hidden = manager.create(hidden(), new Shape(NEXT.length, CHANNELS));

            float[] unrecorded = int8.logProbs(hidden, manager.create(NEXT)).toFloatArray();

            assertThat(unrecorded).containsExactly(logProbsAndGradient(int8, hidden(), manager)[0]);
        }
    }
}
