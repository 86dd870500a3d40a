package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * {@code y = x W^T + b} with HuggingFace's weight layout: {@code weight} is [out, in].
 * Dimension letters: I input features, O output features; x is [..., I], y is [..., O].
 */
public final class Linear extends Module implements LinearLayer {
    private final Parameter weight;
    private final Parameter bias;

    public Linear(long inFeatures, long outFeatures, boolean withBias) {
        weight = parameter("weight", outFeatures, inFeatures);
        bias = withBias ? parameter("bias", outFeatures) : null;
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    public NDArray forward(NDArray x) {
        NDArray b = bias == null ? null : bias.array();
        return x.getNDArrayInternal().linear(x, weight.array(), b).singletonOrThrow(); // [..., I] -> [..., O]
    }
}
