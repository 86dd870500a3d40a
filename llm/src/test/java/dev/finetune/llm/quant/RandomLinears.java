package dev.finetune.llm.quant;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.model.Linear;
import java.util.SplittableRandom;

/** Seeded fp32 linear layers with Gaussian weights (std 0.02) and biases (std 0.1), for quantisation tests. */
final class RandomLinears {
    private final NDManager manager;
    private final SplittableRandom random;

    RandomLinears(NDManager manager, long seed) {
        this.manager = manager;
        this.random = new SplittableRandom(seed);
    }

    float[] gaussian(int n, double std) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (std * random.nextGaussian());
        }
        return values;
    }

    Linear linear(int in, int out, boolean bias) {
        Linear linear = new Linear(in, out, bias);
        linear.weight().set(manager.create(gaussian(out * in, 0.02), new Shape(out, in)));
        if (bias) {
            linear.namedParameters().get("bias").set(manager.create(gaussian(out, 0.1), new Shape(out)));
        }
        return linear;
    }
}
