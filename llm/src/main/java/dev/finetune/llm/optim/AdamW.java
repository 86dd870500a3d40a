package dev.finetune.llm.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.model.Parameter;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Adam with decoupled weight decay, computed as {@code torch.optim.AdamW}:
 *
 * <pre>
 * w = w * (1 - lr * wd)                      (decay, not part of the gradient)
 * m = b1 m + (1 - b1) g                      v = b2 v + (1 - b2) g^2
 * w = w - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 *
 * The moments m and v are created at construction, zero, in the optimizer's own NDManager (a child
 * of the parameters' manager): state created lazily inside a step's scope would be freed with the
 * scope. Updates are in place and run outside the gradient collector, each in its own NDScope.
 *
 * <p>As transformers' Trainer, weight decay skips biases and norm weights (names ending in {@code
 * bias} or containing {@code norm}).
 */
public final class AdamW implements AutoCloseable {
    private final Map<String, Parameter> parameters;
    private final Set<String> decayed;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final NDManager manager;
    private final Map<String, NDArray> firstMoments = new LinkedHashMap<>();
    private final Map<String, NDArray> secondMoments = new LinkedHashMap<>();
    private int step;

    /**
     * @param parameters the trainable parameters by name (the names key the saved state)
     * @param manager parent of the optimizer's own manager, normally the model's
     */
    public AdamW(
            Map<String, Parameter> parameters,
            double beta1,
            double beta2,
            double epsilon,
            double weightDecay,
            NDManager manager) {
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("adam_beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("adam_beta2 must be in [0, 1), got " + beta2);
        }
        if (!(epsilon > 0)) {
            throw new IllegalArgumentException("adam_epsilon must be > 0, got " + epsilon);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weight_decay must be >= 0, got " + weightDecay);
        }
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        this.decayed = decayedNames(parameters.keySet());
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.manager = manager.newSubManager();
        parameters.forEach((name, parameter) -> {
            firstMoments.put(name, this.manager.zeros(parameter.shape()));
            secondMoments.put(name, this.manager.zeros(parameter.shape()));
        });
    }

    private static Set<String> decayedNames(Set<String> names) {
        Set<String> decayed = new HashSet<>();
        for (String name : names) {
            if (!name.endsWith("bias") && !name.contains("norm")) {
                decayed.add(name);
            }
        }
        return decayed;
    }

    /**
     * One update of every parameter from its current gradient, at {@code learningRate}. The
     * gradients are left as they are (zero them before the next accumulation).
     */
    @SuppressWarnings("try")
    public void update(double learningRate) {
        step++;
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (learningRate / biasCorrection1);
        float decayFactor = (float) (1 - learningRate * weightDecay);
        float rootBiasCorrection2 = (float) Math.sqrt(biasCorrection2);
        for (Map.Entry<String, Parameter> entry : parameters.entrySet()) {
            String name = entry.getKey();
            try (NDScope ignored = new NDScope()) {
                NDArray w = entry.getValue().array();
                NDArray g = w.getGradient();
                NDArray m = firstMoments.get(name);
                NDArray v = secondMoments.get(name);
                if (weightDecay > 0 && decayed.contains(name)) {
                    w.muli(decayFactor);
                }
                m.muli((float) beta1).addi(g.mul((float) (1 - beta1)));
                v.muli((float) beta2).addi(g.square().muli((float) (1 - beta2)));
                NDArray denominator = v.sqrt().divi(rootBiasCorrection2).addi((float) epsilon);
                w.subi(m.div(denominator).muli(stepSize));
            }
        }
    }

    /** Sets every gradient to zero, ready for the next accumulation window. */
    @SuppressWarnings("try")
    public void zeroGradients() {
        try (NDScope ignored = new NDScope()) {
            for (Parameter parameter : parameters.values()) {
                NDArray gradient = parameter.array().getGradient();
                gradient.subi(gradient);
            }
        }
    }

    /** Updates done so far: the t of the bias correction. */
    public int step() {
        return step;
    }

    public Map<String, Parameter> parameters() {
        return parameters;
    }

    /** The first moments m by parameter name; live arrays, read them to save. */
    public Map<String, NDArray> firstMoments() {
        return Collections.unmodifiableMap(firstMoments);
    }

    /** The second moments v by parameter name; live arrays, read them to save. */
    public Map<String, NDArray> secondMoments() {
        return Collections.unmodifiableMap(secondMoments);
    }

    /**
     * Restores a saved state: the step count and every moment (copied in place).
     *
     * @throws IllegalArgumentException if a parameter's moments are missing or of another size
     */
    public void restore(int savedStep, Map<String, float[]> first, Map<String, float[]> second) {
        if (savedStep < 0) {
            throw new IllegalArgumentException("optimizer step must be >= 0, got " + savedStep);
        }
        for (String name : parameters.keySet()) {
            copyInto(name, "exp_avg", first.get(name), firstMoments.get(name));
            copyInto(name, "exp_avg_sq", second.get(name), secondMoments.get(name));
        }
        step = savedStep;
    }

    private static void copyInto(String name, String kind, float[] values, NDArray target) {
        if (values == null) {
            throw new IllegalArgumentException("saved optimizer state has no " + kind + " for " + name);
        }
        if (values.length != target.getShape().size()) {
            throw new IllegalArgumentException("saved " + kind + " of " + name + " has " + values.length
                    + " values, the parameter has " + target.getShape().size());
        }
        target.set(values);
    }

    @Override
    public void close() {
        manager.close();
    }
}
