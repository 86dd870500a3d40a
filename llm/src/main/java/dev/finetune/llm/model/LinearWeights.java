package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * The arrays a linear layer computes with, for a compiled step ({@link CompiledDecoding}) that does
 * the same arithmetic in one engine call: {@code y = x W^T + b}, plus, for a LoRA layer, {@code (x
 * A^T) B^T * scaling}. The arrays are the layer's own, not copies.
 *
 * @param weight W [O, I], fp32
 * @param bias b [O], or null
 * @param loraA A [R, I], or null when the layer has no low-rank update
 * @param loraB B [O, R], or null with {@code loraA}
 * @param scaling the update's factor as a 0-d array, or null with {@code loraA}
 */
public record LinearWeights(NDArray weight, NDArray bias, NDArray loraA, NDArray loraB, NDArray scaling) {
    /** A plain linear. */
    public static LinearWeights of(NDArray weight, NDArray bias) {
        return new LinearWeights(weight, bias, null, null, null);
    }

    /** This linear with a low-rank update {@code (x A^T) B^T * scaling} added. */
    public LinearWeights withLowRank(NDArray a, NDArray b, NDArray factor) {
        return new LinearWeights(weight, bias, a, b, factor);
    }

    boolean hasLowRank() {
        return loraA != null;
    }
}
