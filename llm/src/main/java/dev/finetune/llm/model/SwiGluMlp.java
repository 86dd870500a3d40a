package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * The gated feed-forward block: {@code down(silu(gate(x)) * up(x))}.
 *
 * <p>Dimension letters: B batch, T time, C channels (hidden size), F intermediate size.
 */
public final class SwiGluMlp extends Module {

    public SwiGluMlp(int channels, int intermediate, boolean bias) {
        child("gate_proj", new Linear(channels, intermediate, bias));
        child("up_proj", new Linear(channels, intermediate, bias));
        child("down_proj", new Linear(intermediate, channels, bias));
    }

    /** x is [B, T, C]. */
    public NDArray forward(NDArray x) {
        NDArray gate = linear("gate_proj").forward(x); // [B, T, F]
        NDArray up = linear("up_proj").forward(x); // [B, T, F]
        NDArray silu = gate.mul(gate.getNDArrayInternal().sigmoid()); // silu(g) = g * sigmoid(g)
        return linear("down_proj").forward(silu.mul(up)); // [B, T, F] -> [B, T, C]
    }
}
