package dev.finetune.llm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** AdamW against a scalar transcription of torch.optim.AdamW's update, step by step. */
class AdamWTest {
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPS = 1e-8;

    /** Two parameters: a weight (decayed) and a norm weight (never decayed). */
    private static final class Pair extends Module {
        final Parameter weight = parameter("weight", 3, 4);
        final Parameter normWeight = parameter("norm_weight", 5);
    }

    @Test
    void updatesMatchTorchAdamWFormulaOverSeveralSteps() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Pair module = new Pair();
            SplittableRandom random = new SplittableRandom(3);
            float[] w0 = random(random, 12);
            float[] n0 = random(random, 5);
            module.weight.set(manager.create(w0, module.weight.shape()));
            module.normWeight.set(manager.create(n0, module.normWeight.shape()));
            Map<String, Parameter> parameters = module.namedParameters();
            parameters.values().forEach(p -> p.array().setRequiresGradient(true));
            double weightDecay = 0.1;
            double[] lr = {1e-2, 5e-3, 2e-2, 1e-3};
            float[][] gradients = new float[lr.length][];
            float[][] normGradients = new float[lr.length][];
            try (AdamW adamW = new AdamW(parameters, BETA1, BETA2, EPS, weightDecay, manager)) {
                for (int step = 0; step < lr.length; step++) {
                    gradients[step] = random(random, 12);
                    normGradients[step] = random(random, 5);
                    setGradient(module.weight.array(), gradients[step]);
                    setGradient(module.normWeight.array(), normGradients[step]);
                    adamW.update(lr[step]);
                }
                assertThat(adamW.step()).isEqualTo(lr.length);
            }

            double[] expectedWeight = reference(w0, gradients, lr, weightDecay);
            double[] expectedNorm = reference(n0, normGradients, lr, 0);
            assertClose(module.weight.array().toFloatArray(), expectedWeight, 1e-6);
            assertClose(module.normWeight.array().toFloatArray(), expectedNorm, 1e-6);
        }
    }

    @Test
    void weightDecayIsDecoupledFromTheGradient() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Pair module = new Pair();
            float[] w0 = random(new SplittableRandom(5), 12);
            module.weight.set(manager.create(w0, module.weight.shape()));
            module.normWeight.set(manager.ones(module.normWeight.shape()));
            Map<String, Parameter> parameters = new LinkedHashMap<>(module.namedParameters());
            parameters.values().forEach(p -> p.array().setRequiresGradient(true));
            try (AdamW adamW = new AdamW(parameters, BETA1, BETA2, EPS, 0.5, manager)) {
                setGradient(module.weight.array(), new float[12]);
                setGradient(module.normWeight.array(), new float[5]);
                adamW.update(0.1);
            }
            // With a zero gradient Adam's term is 0 and only the decay w * (1 - lr * wd) acts;
            // L2 regularisation folded into the gradient would instead move w by about lr.
            float[] w = module.weight.array().toFloatArray();
            for (int i = 0; i < w.length; i++) {
                assertThat((double) w[i]).isCloseTo(w0[i] * (1 - 0.1 * 0.5), org.assertj.core.data.Offset.offset(1e-6));
            }
        }
    }

    @Test
    void restoredStateContinuesExactlyAndMissingMomentsAreNamed() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Pair a = new Pair();
            Pair b = new Pair();
            float[] w0 = random(new SplittableRandom(8), 12);
            for (Pair p : new Pair[] {a, b}) {
                p.weight.set(manager.create(w0, p.weight.shape()));
                p.normWeight.set(manager.ones(p.normWeight.shape()));
                p.namedParameters().values().forEach(x -> x.array().setRequiresGradient(true));
            }
            float[] g1 = random(new SplittableRandom(9), 12);
            float[] g2 = random(new SplittableRandom(10), 12);
            try (AdamW first = new AdamW(a.namedParameters(), BETA1, BETA2, EPS, 0.01, manager);
                    AdamW second = new AdamW(b.namedParameters(), BETA1, BETA2, EPS, 0.01, manager)) {
                setGradient(a.weight.array(), g1);
                setGradient(a.normWeight.array(), new float[5]);
                first.update(0.01);
                // b continues from a copy of a's state after one step
                b.weight.array().set(a.weight.array().toFloatArray());
                Map<String, float[]> m = new LinkedHashMap<>();
                Map<String, float[]> v = new LinkedHashMap<>();
                first.firstMoments().forEach((name, array) -> m.put(name, array.toFloatArray()));
                first.secondMoments().forEach((name, array) -> v.put(name, array.toFloatArray()));
                second.restore(first.step(), m, v);

                for (Pair p : new Pair[] {a, b}) {
                    setGradient(p.weight.array(), g2);
                    setGradient(p.normWeight.array(), new float[5]);
                }
                first.update(0.02);
                second.update(0.02);
                assertThat(b.weight.array().toFloatArray())
                        .containsExactly(a.weight.array().toFloatArray());

                m.remove("weight");
                assertThatThrownBy(() -> second.restore(1, m, v)).hasMessageContaining("exp_avg for weight");
            }
        }
    }

    /** torch.optim.AdamW (single tensor, amsgrad off, maximize off) in double precision. */
    private static double[] reference(float[] w0, float[][] gradients, double[] lr, double weightDecay) {
        double[] w = new double[w0.length];
        double[] m = new double[w0.length];
        double[] v = new double[w0.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = w0[i];
        }
        for (int t = 1; t <= lr.length; t++) {
            double rate = lr[t - 1];
            double bc1 = 1 - Math.pow(BETA1, t);
            double bc2 = 1 - Math.pow(BETA2, t);
            for (int i = 0; i < w.length; i++) {
                double g = gradients[t - 1][i];
                w[i] *= 1 - rate * weightDecay;
                m[i] = BETA1 * m[i] + (1 - BETA1) * g;
                v[i] = BETA2 * v[i] + (1 - BETA2) * g * g;
                double denominator = Math.sqrt(v[i]) / Math.sqrt(bc2) + EPS;
                w[i] -= rate / bc1 * m[i] / denominator;
            }
        }
        return w;
    }

    /** Makes {@code gradient} the array's gradient: d/dw sum(w * g) = g, through a real backward pass. */
    static void setGradient(NDArray w, float[] gradient) {
        NDManager manager = w.getManager();
        try (NDManager scope = manager.newSubManager();
                ai.djl.training.GradientCollector collector =
                        ai.djl.engine.Engine.getInstance().newGradientCollector()) {
            NDArray g = scope.create(gradient, w.getShape());
            NDArray current = w.getGradient();
            current.subi(current); // a fresh gradient, not an accumulation
            collector.backward(w.mul(g).sum());
        }
    }

    private static float[] random(SplittableRandom random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static void assertClose(float[] actual, double[] expected, double tolerance) {
        assertThat(actual).hasSize(expected.length);
        for (int i = 0; i < actual.length; i++) {
            assertThat((double) actual[i])
                    .as("element %d", i)
                    .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(tolerance));
        }
    }
}
