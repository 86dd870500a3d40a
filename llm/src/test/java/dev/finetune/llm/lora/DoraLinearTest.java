package dev.finetune.llm.lora;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.LinearLayer;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.BaseStorage;
import dev.finetune.llm.testing.AdapterFixtures;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DoRA on one biased linear (I = 6 inputs, O = 4 outputs, rank 2, x [2, 3, I], lora_alpha 3.5 so
 * scaling 1.75) against PEFT's DoraLinearLayer computed here in double from the layer's values:
 *
 * <pre>
 * n = ||W + s B A|| per output row (a constant for backward)
 * y = W x + b + (m / n - 1) W x' + (m / n) s B A x',   x' = dropout(x)
 * </pre>
 *
 * Over an int8 or nf4 base W is the dequantised weight.
 */
class DoraLinearTest {
    private static final int I = 6;
    private static final int O = 4;
    private static final int R = 2;
    /** Rows of x: [2, 3] flattened. */
    private static final int N = 6;

    private static final double SCALING = 3.5 / R;
    /** fp32 against double, relative to the largest expected value: sums of 6 to 12 products. */
    private static final double TOLERANCE = 1e-6;

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

    private static LoraConfig config() {
        return LoraConfig.defaults().withR(R).withAlpha(3.5).withDropout(0.5).withUseDora(true);
    }

    /** A DoRA layer over a biased base linear stored as {@code dtype}. */
    private LoraLinear layer(BaseDType dtype, long dropoutSeed) {
        Linear linear = new Linear(I, O, true);
        linear.weight().set(manager.create(gaussian(O * I), new Shape(O, I)));
        linear.namedParameters().get("bias").set(manager.create(gaussian(O), new Shape(O)));
        Module base = BaseStorage.of(dtype).quantize(linear, manager);
        return new LoraLinear(
                (Module & LinearLayer) base, I, O, config(), mode, manager, new SplittableRandom(1), dropoutSeed);
    }

    /** A non-zero B and a magnitude away from the norms, so every term of the formula matters. */
    private void train(LoraLinear lora) {
        lora.loraB().set(manager.create(gaussian(O * R), new Shape(O, R)));
        float[] m = lora.magnitude().orElseThrow().array().toFloatArray();
        for (int o = 0; o < O; o++) {
            m[o] *= (float) (1 + 0.3 * random.nextGaussian());
        }
        lora.magnitude().orElseThrow().array().set(m);
    }

    private NDArray input() {
        return manager.create(gaussian(N * I), new Shape(2, 3, I));
    }

    /** The layer's values in double, and PEFT's formula over them. */
    private static final class Reference {
        final double[] w;
        final double[] bias;
        final double[] a;
        final double[] b;
        final double[] m;
        final double[] norm = new double[O];
        /** The dropout mask (kept inputs scaled by 1 / (1 - p)), all ones without dropout. */
        final double[] mask;

        Reference(LoraLinear lora, float[] mask) {
            Module base = (Module) lora.base();
            w = doubles(BaseLinear.weight(base).toFloatArray());
            bias = doubles(BaseLinear.bias(base).array().toFloatArray());
            a = doubles(lora.loraA().array().toFloatArray());
            b = doubles(lora.loraB().array().toFloatArray());
            m = doubles(lora.magnitude().orElseThrow().array().toFloatArray());
            this.mask = doubles(mask);
            computeNorms();
        }

        /** n = ||W + s B A|| per row, from the current B. */
        void computeNorms() {
            for (int o = 0; o < O; o++) {
                double sum = 0;
                for (int i = 0; i < I; i++) {
                    double v = w[o * I + i] + SCALING * ba(o, i);
                    sum += v * v;
                }
                norm[o] = Math.sqrt(sum);
            }
        }

        /** (B A)[o, i]. */
        double ba(int o, int i) {
            double sum = 0;
            for (int r = 0; r < R; r++) {
                sum += b[o * R + r] * a[r * I + i];
            }
            return sum;
        }

        double dropped(double[] x, int n, int i) {
            return x[n * I + i] * mask[n * I + i];
        }

        /** y [N, O]. */
        double[] forward(double[] x) {
            double[] y = new double[N * O];
            for (int n = 0; n < N; n++) {
                for (int o = 0; o < O; o++) {
                    double wx = 0;
                    double wxDropped = 0;
                    double baxDropped = 0;
                    for (int i = 0; i < I; i++) {
                        wx += w[o * I + i] * x[n * I + i];
                        wxDropped += w[o * I + i] * dropped(x, n, i);
                        baxDropped += ba(o, i) * dropped(x, n, i);
                    }
                    double k = m[o] / norm[o];
                    y[n * O + o] = wx + bias[o] + (k - 1) * wxDropped + k * SCALING * baxDropped;
                }
            }
            return y;
        }

        /** d sum(y * g) / d{A, B, m, x} with n held constant: {gradA, gradB, gradM, gradX}. */
        double[][] gradients(double[] x, double[] g) {
            double[] gradA = new double[R * I];
            double[] gradB = new double[O * R];
            double[] gradM = new double[O];
            double[] gradX = new double[N * I];
            for (int n = 0; n < N; n++) {
                double[] ax = new double[R];
                for (int r = 0; r < R; r++) {
                    for (int i = 0; i < I; i++) {
                        ax[r] += a[r * I + i] * dropped(x, n, i);
                    }
                }
                for (int o = 0; o < O; o++) {
                    double gno = g[n * O + o];
                    double k = m[o] / norm[o];
                    double direction = 0; // (W x' + s B A x')[n, o]
                    for (int i = 0; i < I; i++) {
                        direction += (w[o * I + i] + SCALING * ba(o, i)) * dropped(x, n, i);
                        gradX[n * I + i] += gno * w[o * I + i]
                                + gno * mask[n * I + i] * ((k - 1) * w[o * I + i] + k * SCALING * ba(o, i));
                    }
                    gradM[o] += gno * direction / norm[o];
                    for (int r = 0; r < R; r++) {
                        gradB[o * R + r] += gno * k * SCALING * ax[r];
                        for (int i = 0; i < I; i++) {
                            gradA[r * I + i] += gno * k * SCALING * b[o * R + r] * dropped(x, n, i);
                        }
                    }
                }
            }
            return new double[][] {gradA, gradB, gradM, gradX};
        }

        /** sum(y * g) with n recomputed from the changed B: the loss a non-detached norm would differentiate. */
        double lossWithB(double[] x, double[] g, int index, double value) {
            double[] saved = b.clone();
            b[index] = value;
            double[] savedNorm = norm.clone();
            computeNorms();
            double[] y = forward(x);
            System.arraycopy(saved, 0, b, 0, b.length);
            System.arraycopy(savedNorm, 0, norm, 0, norm.length);
            double loss = 0;
            for (int j = 0; j < y.length; j++) {
                loss += y[j] * g[j];
            }
            return loss;
        }
    }

    private static double[] doubles(float[] values) {
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = values[i];
        }
        return result;
    }

    /** The mask the layer's dropout (seed 7, its first draw) applies, or ones in evaluation. */
    private float[] mask(boolean training) {
        float[] ones = new float[N * I];
        Arrays.fill(ones, 1f);
        if (!training) {
            return ones;
        }
        return new LoraDropout(0.5, 7)
                .apply(manager.create(ones, new Shape(N, I)))
                .toFloatArray();
    }

    private static void assertClose(float[] actual, double[] expected, String what) {
        double largest = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            largest = Math.max(largest, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
        }
        assertThat(largest).as(what + " is not trivially zero").isGreaterThan(0.1);
        assertThat(worst / largest)
                .as(what + ": largest error relative to the largest value")
                .isLessThan(TOLERANCE);
    }

    @ParameterizedTest(name = "base {0}, training {1}")
    @CsvSource({"FP32, false", "FP32, true", "INT8, false", "NF4, true"})
    void outputIsPeftsDoraFormula(BaseDType dtype, boolean training) {
        LoraLinear lora = layer(dtype, 7);
        train(lora);
        NDArray x = input();
        Reference reference = new Reference(lora, mask(training));
        mode.setTraining(training);

        float[] y = lora.forward(x).toFloatArray();

        assertClose(y, reference.forward(doubles(x.toFloatArray())), "y");
    }

    @ParameterizedTest(name = "base {0}, training {1}")
    @CsvSource({"FP32, false", "FP32, true", "NF4, false"})
    void gradientsTreatTheWeightNormAsAConstant(BaseDType dtype, boolean training) {
        LoraLinear lora = layer(dtype, 7);
        train(lora);
        NDArray x = input();
        float[] g = gaussian(N * O);
        Reference reference = new Reference(lora, mask(training));
        Parameter a = lora.loraA();
        Parameter b = lora.loraB();
        Parameter m = lora.magnitude().orElseThrow();
        for (Parameter p : new Parameter[] {a, b, m}) {
            p.array().setRequiresGradient(true);
        }
        x.setRequiresGradient(true);
        mode.setTraining(training);
        float[][] actual;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray y = lora.forward(x);
            collector.backward(y.mul(manager.create(g, new Shape(2, 3, O))).sum());
            actual = new float[][] {
                a.array().getGradient().toFloatArray(),
                b.array().getGradient().toFloatArray(),
                m.array().getGradient().toFloatArray(),
                x.getGradient().toFloatArray()
            };
        }

        double[] xs = doubles(x.toFloatArray());
        double[][] expected = reference.gradients(xs, doubles(g));
        String[] names = {"dA", "dB", "dm", "dx"};
        for (int t = 0; t < names.length; t++) {
            assertClose(actual[t], expected[t], names[t]);
        }
        Module base = (Module) lora.base();
        if (base instanceof Linear linear) {
            assertThat(linear.weight().array().hasGradient()).isFalse();
        }
        // The test tells the two apart: differentiating through the norm gives another dB.
        double[] throughTheNorm = new double[O * R];
        double h = 1e-6;
        for (int j = 0; j < throughTheNorm.length; j++) {
            double value = reference.b[j];
            throughTheNorm[j] = (reference.lossWithB(xs, doubles(g), j, value + h)
                            - reference.lossWithB(xs, doubles(g), j, value - h))
                    / (2 * h);
        }
        double gap = 0;
        for (int j = 0; j < throughTheNorm.length; j++) {
            gap = Math.max(gap, Math.abs(throughTheNorm[j] - expected[1][j]));
        }
        assertThat(gap)
                .as("dB through the norm differs from dB with the norm detached")
                .isGreaterThan(0.01);
    }

    @ParameterizedTest(name = "base {0}")
    @CsvSource({"FP32", "INT8", "NF4"})
    void freshAdapterHasTheWeightNormsAsMagnitudeAndChangesNothing(BaseDType dtype) {
        LoraLinear lora = layer(dtype, 7);
        NDArray x = input();
        float[] base = lora.base().forward(x).toFloatArray();
        Reference reference = new Reference(lora, mask(false));

        assertClose(lora.magnitude().orElseThrow().array().toFloatArray(), reference.norm, "m = ||W||");
        assertThat(AdapterFixtures.maxAbsDiff(lora.forward(x).toFloatArray(), base))
                .isLessThan(1e-6);
        mode.setTraining(true);
        assertThat(AdapterFixtures.maxAbsDiff(lora.forward(x).toFloatArray(), base))
                .as("with dropout")
                .isLessThan(1e-6);
    }

    @Test
    void theMergedWeightGivesTheSameOutput() {
        LoraLinear lora = layer(BaseDType.FP32, 7);
        train(lora);
        NDArray x = input();
        float[] adapted = lora.forward(x).toFloatArray();
        Linear base = (Linear) lora.base();
        float[] plain = base.forward(x).toFloatArray();

        base.weight().set(lora.mergedWeight(base.weight().array()));
        float[] merged = base.forward(x).toFloatArray();

        assertThat(AdapterFixtures.maxAbsDiff(adapted, plain)).isGreaterThan(0.1);
        assertThat(AdapterFixtures.maxAbsDiff(merged, adapted)).isLessThan(1e-5 * AdapterFixtures.maxAbs(adapted));
    }
}
