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

class Nf4LinearTest {
    private final NDManager manager = NDManager.newBaseManager(Device.cpu());
    private final RandomLinears random = new RandomLinears(manager, 17);

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
     * The QLoRA paper's figure: 4 bits per code + 8 / 64 for the int8 scale + 32 / (64 * 256) for
     * the fp32 absmax of each group of scales = 4.127 bits per parameter (4.5 with fp32 scales).
     * Measured from the engine arrays of a [1024, 1024] weight.
     */
    @Test
    void residentSizeIs4Point127BitsPerParameterWithDoubleQuantisation() {
        Linear base = linear(1024, 1024, false);
        Nf4Linear doubleQuantized = Nf4Linear.quantize(base, true, manager);
        Nf4Linear plain = Nf4Linear.quantize(base, false, manager);

        assertThat(doubleQuantized.bitsPerParameter()).isCloseTo(4.127, offset(0.0005));
        assertThat(doubleQuantized.residentBytes()).isEqualTo(1024 * 1024 / 2 + 1024 * 1024 / 64 + 64 * 4 + 4);
        assertThat(plain.bitsPerParameter()).isEqualTo(4.5);
    }

    @Test
    void forwardIsTheInputTimesTheDequantisedWeightPlusBias() {
        Linear base = linear(96, 40, true);
        float[] original = base.weight().array().toFloatArray();
        Nf4Linear quantized = Nf4Linear.quantize(base, true, manager);
        NDArray x = manager.create(gaussian(2 * 5 * 96, 1), new Shape(2, 5, 96));

        NDArray dequantized = quantized.dequantize(); // [O, I]
        base.weight().set(dequantized);
        float[] expected = base.forward(x).toFloatArray();

        assertThat(quantized.forward(x).toFloatArray()).containsExactly(expected);
        assertThat(Nf4FixtureTest.relativeError(original, dequantized.toFloatArray()))
                .isBetween(0.07, 0.11);
    }

    @Test
    void gradientsReachTheInputButTheStoredWeightHasNone() {
        Nf4Linear quantized = Nf4Linear.quantize(linear(64, 32, false), true, manager);
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
    }

    /** A training step scopes its arrays in a sub-manager; dequantising must not leave arrays in the model's. */
    @Test
    void forwardPassesLeaveNoArraysInTheWeightsManager() {
        Nf4Linear quantized = Nf4Linear.quantize(linear(128, 64, true), true, manager);
        int before = manager.getManagedArrays().size();
        for (int step = 0; step < 3; step++) {
            try (NDManager stepManager = manager.newSubManager()) {
                quantized.forward(stepManager.ones(new Shape(4, 128))).toFloatArray();
            }
        }

        // the sub-managers (already closed) are the only things the weights' manager gained
        assertThat(manager.getManagedArrays().size()).isEqualTo(before);
    }
}
