package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * PPO's value head: a scalar per position from the final-normed hidden states, {@code V = h w^T + b},
 * on the policy's own body, as TRL's {@code AutoModelForCausalLMWithValueHead} ({@code v_head.summary},
 * a {@code Linear(C, 1)}; its dropout is left out, as PPO runs with dropout off). Its parameters are
 * named as TRL saves them ({@link #WEIGHT}, {@link #BIAS}). The weight starts at normal(0,
 * initializer_range) with a seed, the bias at 0; its arrays live (and are freed) with the model's.
 *
 * <p>Dimension letters: B batch, T time, C channels.
 */
public final class ValueHead extends Module {
    public static final String WEIGHT = "v_head.summary.weight";
    public static final String BIAS = "v_head.summary.bias";

    private final Linear summary;

    /** A new head for {@code model}'s hidden size, its arrays in the model's manager. */
    public ValueHead(CausalLm model, long seed) {
        int hidden = model.config().hiddenSize();
        NDManager manager = model.manager();
        this.summary = child("summary", new Linear(hidden, 1, true));
        Random random = new Random(seed);
        float[] weights = new float[hidden];
        for (int c = 0; c < hidden; c++) {
            weights[c] = (float) (random.nextGaussian() * model.config().initializerRange());
        }
        summary.weight().set(manager.create(weights, new Shape(1, hidden)));
        namedParameters().get("summary.bias").set(manager.create(new float[] {0f}, new Shape(1)));
    }

    /** The head's parameters by TRL's names. */
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> named = new LinkedHashMap<>();
        named.put(WEIGHT, namedParameters().get("summary.weight"));
        named.put(BIAS, namedParameters().get("summary.bias"));
        return named;
    }

    /** The value of every position: hidden [B, T, C] to [B, T]. */
    public NDArray forward(NDArray hidden) {
        return summary.forward(hidden).squeeze(-1); // [B, T, C] -> [B, T, 1] -> [B, T]
    }
}
