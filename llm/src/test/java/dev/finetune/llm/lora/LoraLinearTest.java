package dev.finetune.llm.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.testing.AdapterFixtures;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One adapter on a biased linear, I = 16 inputs, O = 8 outputs, rank 4, x [2, 3, I]. */
class LoraLinearTest {
    private static final int I = 16;
    private static final int O = 8;
    private static final int R = 4;

    private final NDManager manager = NDManager.newBaseManager(Device.cpu());
    private final SplittableRandom random = new SplittableRandom(42);
    private final AdapterMode mode = new AdapterMode();

    @AfterEach
    void close() {
        manager.close();
    }

    private float[] gaussian(int n) {
        return AdapterFixtures.gaussian(random, n);
    }

    private LoraLinear layer(LoraConfig config, long dropoutSeed) {
        Linear base = new Linear(I, O, true);
        base.weight().set(manager.create(gaussian(O * I), new Shape(O, I)));
        base.namedParameters().get("bias").set(manager.create(gaussian(O), new Shape(O)));
        return new LoraLinear(base, I, O, config, mode, manager, new SplittableRandom(1), dropoutSeed);
    }

    private static LoraConfig config() {
        return LoraConfig.defaults().withR(R).withAlpha(8).withDropout(0.5);
    }

    private NDArray input() {
        return manager.create(gaussian(2 * 3 * I), new Shape(2, 3, I));
    }

    @ParameterizedTest(name = "useRslora={0}")
    @ValueSource(booleans = {false, true})
    void outputIsBasePlusScaledLowRankUpdate(boolean rsLora) {
        LoraLinear lora = layer(config().withUseRslora(rsLora), 0);
        lora.loraB().set(manager.create(gaussian(O * R), new Shape(O, R)));
        NDArray x = input();

        float[] y = lora.forward(x).toFloatArray();

        double scaling = rsLora ? 8 / Math.sqrt(4) : 8.0 / 4;
        assertThat(lora.scaling()).isEqualTo(scaling);
        float[] expected = reference(lora, x.toFloatArray(), scaling);
        for (int i = 0; i < y.length; i++) {
            assertThat((double) y[i]).isCloseTo(expected[i], offset(1e-4));
        }
    }

    /** y = W x + b + scaling * B (A x), in double from the parameters' values. */
    private static float[] reference(LoraLinear lora, float[] x, double scaling) {
        Linear base = (Linear) lora.base();
        float[] w = base.weight().array().toFloatArray();
        float[] b = base.namedParameters().get("bias").array().toFloatArray();
        float[] a = lora.loraA().array().toFloatArray();
        float[] bb = lora.loraB().array().toFloatArray();
        int rows = x.length / I;
        float[] y = new float[rows * O];
        for (int n = 0; n < rows; n++) {
            double[] ax = new double[R];
            for (int r = 0; r < R; r++) {
                for (int i = 0; i < I; i++) {
                    ax[r] += a[r * I + i] * (double) x[n * I + i];
                }
            }
            for (int o = 0; o < O; o++) {
                double value = b[o];
                for (int i = 0; i < I; i++) {
                    value += w[o * I + i] * (double) x[n * I + i];
                }
                for (int r = 0; r < R; r++) {
                    value += scaling * bb[o * R + r] * ax[r];
                }
                y[n * O + o] = (float) value;
            }
        }
        return y;
    }

    @Test
    void theDeltaWeightMergedIntoTheBaseGivesTheSameOutput() {
        LoraLinear lora = layer(config(), 0);
        lora.loraB().set(manager.create(gaussian(O * R), new Shape(O, R)));
        NDArray x = input();
        float[] adapted = lora.forward(x).toFloatArray();
        Linear base = (Linear) lora.base();

        base.weight().set(base.weight().array().add(lora.deltaWeight())); // W' = W + B A * scaling
        float[] merged = base.forward(x).toFloatArray();

        assertThat(AdapterFixtures.maxAbs(adapted)).isGreaterThan(1);
        assertThat(AdapterFixtures.maxAbsDiff(merged, adapted)).isLessThan(1e-5);
    }

    @Test
    void freshAdapterStartsKaimingUniformAndChangesNothingEvenWithDropout() {
        LoraLinear lora = layer(config(), 0);
        NDArray x = input();
        float[] base = lora.base().forward(x).toFloatArray();
        mode.setTraining(true);

        assertThat(lora.forward(x).toFloatArray()).containsExactly(base);
        float[] a = lora.loraA().array().toFloatArray();
        double bound = 1 / Math.sqrt(I);
        assertThat(AdapterFixtures.maxAbs(a)).isLessThanOrEqualTo(bound).isGreaterThan(0.8 * bound);
        assertThat(lora.loraB().array().toFloatArray()).containsOnly(0f);
    }

    /** loss = sum(y^2) is quadratic in each entry, so a central difference is exact up to rounding. */
    @Test
    void gradientsOfAAndBAgreeWithFiniteDifferencesAndNoneReachTheBase() {
        LoraLinear lora = layer(config(), 0);
        lora.loraB().set(manager.create(gaussian(O * R), new Shape(O, R)));
        NDArray x = input();
        Parameter a = lora.loraA();
        Parameter b = lora.loraB();
        a.array().setRequiresGradient(true);
        b.array().setRequiresGradient(true);
        float[] gradA;
        float[] gradB;
        try (NDManager step = manager.newSubManager();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray y = lora.forward(x);
            collector.backward(y.mul(y).sum());
            gradA = a.array().getGradient().toFloatArray();
            gradB = b.array().getGradient().toFloatArray();
        }
        assertThat(((Linear) lora.base()).weight().array().hasGradient()).isFalse();

        assertMatchesFiniteDifferences(lora, a, gradA, x);
        assertMatchesFiniteDifferences(lora, b, gradB, x);
    }

    private static void assertMatchesFiniteDifferences(LoraLinear lora, Parameter p, float[] gradient, NDArray x) {
        float[] values = p.array().toFloatArray();
        double largest = 0;
        for (float g : gradient) {
            largest = Math.max(largest, Math.abs(g));
        }
        assertThat(largest).isGreaterThan(1.0);
        float h = 1e-2f;
        for (int i = 0; i < values.length; i++) {
            double plus = lossWith(lora, p, values, i, values[i] + h, x);
            double minus = lossWith(lora, p, values, i, values[i] - h, x);
            double numeric = (plus - minus) / (2 * h);
            assertThat(Math.abs(numeric - gradient[i]))
                    .as("%s[%d]", p.name(), i)
                    .isLessThan(2e-3 * largest);
        }
        p.array().set(values);
    }

    private static double lossWith(LoraLinear lora, Parameter p, float[] values, int index, float value, NDArray x) {
        float[] changed = values.clone();
        changed[index] = value;
        p.array().set(changed);
        double loss = 0;
        for (float y : lora.forward(x).toFloatArray()) {
            loss += (double) y * y;
        }
        return loss;
    }

    @Test
    void dropoutActsOnlyInTrainingAndRepeatsForTheSameSeed() {
        LoraLinear first = layer(config(), 7);
        LoraLinear second = layer(config(), 7);
        NDArray b = manager.create(gaussian(O * R), new Shape(O, R));
        first.loraB().set(b.duplicate());
        second.loraB().set(b.duplicate());
        second.loraA().set(first.loraA().array().duplicate());
        Linear firstBase = (Linear) first.base();
        Linear secondBase = (Linear) second.base();
        secondBase.weight().set(firstBase.weight().array().duplicate());
        secondBase
                .namedParameters()
                .get("bias")
                .set(firstBase.namedParameters().get("bias").array().duplicate());
        NDArray x = input();

        float[] evaluation = update(first, x);
        mode.setTraining(true);
        float[] trainingFirst = update(first, x);
        float[] trainingSecond = update(second, x);
        float[] nextCall = update(first, x);
        first.reseedDropout(7);
        float[] afterReseed = update(first, x);

        assertThat(trainingFirst).isNotEqualTo(evaluation);
        assertThat(trainingSecond).containsExactly(trainingFirst);
        assertThat(nextCall).isNotEqualTo(trainingFirst);
        assertThat(afterReseed).containsExactly(trainingFirst);
    }

    private static float[] update(LoraLinear lora, NDArray x) {
        float[] y = lora.forward(x).toFloatArray();
        float[] base = lora.base().forward(x).toFloatArray();
        for (int i = 0; i < y.length; i++) {
            y[i] -= base[i];
        }
        return y;
    }

    @Test
    void dropoutZeroesItsProbabilityAndScalesTheRestToKeepTheMean() {
        LoraDropout dropout = new LoraDropout(0.25, 3);
        float[] out = dropout.apply(manager.ones(new Shape(200, 100))).toFloatArray();

        long zeros = 0;
        for (float v : out) {
            assertThat(v).isIn(0f, (float) (1 / 0.75));
            zeros += v == 0 ? 1 : 0;
        }
        assertThat(zeros / 20000.0).isBetween(0.24, 0.26);
    }

    @Test
    void drawingMasksAllocatesNothingOnTheJavaHeap() {
        LoraDropout dropout = new LoraDropout(0.1, 5);
        NDArray x = manager.ones(new Shape(2048, 1024));
        dropout.apply(x).close(); // this thread's mask buffer is made once
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10; i++) {
            dropout.apply(x).close();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(allocated)
                .as("heap bytes allocated by 10 masks of 2048 x 1024 (a float[] each would be 80 MiB)")
                .isLessThan(1L << 20);
    }
}
