package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * Root-mean-square layer norm: {@code weight * x / sqrt(mean(x^2) + eps)} over the last axis of
 * size C, as HuggingFace's LlamaRMSNorm: computed in fp32, cast back to the input dtype, then
 * scaled. Also used per attention head (qwen3's q_norm / k_norm, C = head dim D).
 */
public final class RmsNorm extends Module {
    private final Parameter weight;
    /** eps as an array: a Java scalar on the gradient path is freed while autograd still needs it. */
    private final NDArray eps;

    public RmsNorm(long channels, double eps, NDManager manager) {
        this.weight = parameter("weight", channels);
        this.eps = manager.create((float) eps);
    }

    public Parameter weight() {
        return weight;
    }

    /** x is [..., C]. */
    public NDArray forward(NDArray x) {
        DataType inputType = x.getDataType();
        // Casts only when needed: toType cuts the gradient, and fp32 input needs none.
        NDArray x32 = inputType == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        int last = x32.getShape().dimension() - 1;
        NDArray variance = x32.square().mean(new int[] {last}, true); // [..., 1]
        NDArray normed = x32.div(variance.add(eps).sqrt());
        if (inputType != DataType.FLOAT32) {
            normed = normed.toType(inputType, false);
        }
        return normed.mul(weight.array());
    }
}
