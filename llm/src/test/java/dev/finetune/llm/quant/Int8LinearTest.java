package dev.finetune.llm.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.testing.AdapterFixtures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class Int8LinearTest {
    private final NDManager manager = NDManager.newBaseManager(Device.cpu());
    private final RandomLinears random = new RandomLinears(manager, 23);

    @AfterEach
    void close() {
        manager.close();
    }

    private float[] gaussian(int n, double std) {
        return random.gaussian(n, std);
    }

    private Linear linear(int in, int out, boolean bias) {
        return random.linear(in, out, bias);
    }

    /**
     * bitsandbytes' vector-wise quantisation, {@code torch.round(w * 127 / absmax(row))}, worked by
     * hand: 63.5 rounds to 64, -0.5 to 0 and 1.5 to 2 (ties to even), the largest value of a row is
     * +-127, a row of zeros has scale 0. Row 3's absmax 127 / 64 makes its products exact.
     */
    @Test
    void codesAreEachRowScaledToItsAbsmaxAndRoundedHalfToEven() {
        float[] w = {
            0.5f,
            -1.0f,
            0.25f,
            0.1f, // absmax 1: x 127
            0,
            0,
            0,
            0,
            1.984375f,
            -0.0078125f,
            0.0234375f,
            -1.984375f // absmax 127 / 64: x 64
        };
        Int8Weight q = Int8.quantize(w, new long[] {3, 4});

        assertThat(q.codes()).containsExactly(64, -127, 32, 13, 0, 0, 0, 0, 127, 0, 2, -127);
        assertThat(q.scales()).containsExactly(1f / 127, 0f, 1.984375f / 127);
    }

    /** 8 bits a weight plus one fp32 scale per row: 8 + 32 / I. */
    @Test
    void residentSizeIsEightBitsPerParameterPlusARowScale() {
        Int8Linear quantized = Int8Linear.quantize(linear(1024, 256, false), manager);

        assertThat(quantized.residentBytes()).isEqualTo(256 * 1024 + 256 * 4);
        assertThat(quantized.bitsPerParameter()).isEqualTo(8 + 32.0 / 1024);
    }

    /** Half a step of the row's scale at most: |w - deq(w)| <= absmax(row) / 254. */
    @Test
    void everyValueIsWithinHalfAStepOfItsRow() {
        Linear base = linear(96, 40, false);
        float[] original = base.weight().array().toFloatArray();
        float[] dequantized = Int8Linear.quantize(base, manager).dequantize().toFloatArray();

        for (int row = 0; row < 40; row++) {
            double absmax = 0;
            for (int i = 0; i < 96; i++) {
                absmax = Math.max(absmax, Math.abs(original[row * 96 + i]));
            }
            for (int i = 0; i < 96; i++) {
                assertThat((double) dequantized[row * 96 + i])
                        .isCloseTo(original[row * 96 + i], offset(absmax / 254 * (1 + 1e-5)));
            }
        }
        // Gaussian rows of 96: the absmax is ~2.5 std, so the error is ~2.5 / 127 / sqrt(12) std.
        assertThat(Nf4FixtureTest.relativeError(original, dequantized)).isBetween(0.004, 0.008);
    }

    @Test
    void forwardIsTheInputTimesTheDequantisedWeightPlusBias() {
        Linear base = linear(96, 40, true);
        Int8Linear quantized = Int8Linear.quantize(base, manager);
        NDArray x = manager.create(gaussian(2 * 5 * 96, 1), new Shape(2, 5, 96));

        base.weight().set(quantized.dequantize()); // [O, I]
        float[] expected = base.forward(x).toFloatArray();

        assertThat(quantized.forward(x).toFloatArray()).containsExactly(expected);
        assertThat(quantized.dtype()).isEqualTo(BaseDType.INT8);
    }

    @Test
    void gradientsReachTheInputButTheStoredWeightHasNone() {
        Int8Linear quantized = Int8Linear.quantize(linear(64, 32, false), manager);
        NDArray x = manager.create(gaussian(3 * 64, 1), new Shape(3, 64));
        x.setRequiresGradient(true);
        float[] gradient;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray y = quantized.forward(x); // [3, O]
            collector.backward(y.mul(y).sum());
            gradient = x.getGradient().toFloatArray();
        }

        // d sum(y^2) / dx = 2 y W
        NDArray w = quantized.dequantize(); // [O, I]
        float[] expected =
                quantized.forward(x).mul(manager.create(2f)).matMul(w).toFloatArray(); // [3, O] x [O, I]
        assertThat(AdapterFixtures.maxAbsDiff(gradient, expected)).isLessThan(1e-6);
        assertThat(AdapterFixtures.maxAbs(gradient)).isGreaterThan(1e-3);
        assertThat(quantized.namedParameters()).isEmpty();
        assertThat(quantized.codes().hasGradient()).isFalse();
    }

    /** A training step scopes its arrays in a sub-manager; dequantising must not leave arrays in the model's. */
    @Test
    void forwardPassesLeaveNoArraysInTheWeightsManager() {
        Int8Linear quantized = Int8Linear.quantize(linear(128, 64, true), manager);
        int before = manager.getManagedArrays().size();
        for (int step = 0; step < 3; step++) {
            try (NDManager stepManager = manager.newSubManager()) {
                quantized.forward(stepManager.ones(new Shape(4, 128))).toFloatArray();
            }
        }

        assertThat(manager.getManagedArrays().size()).isEqualTo(before);
    }
}
