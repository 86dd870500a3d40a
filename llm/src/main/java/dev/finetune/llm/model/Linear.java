package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.TensorSource;
import java.util.Optional;

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

    /** A fp32 linear with weight {@code path.weight} [O, I] (and {@code path.bias} [O]) read from {@code tensors}. */
    public static Linear read(TensorSource tensors, String path, long[] shape, boolean withBias, NDManager manager)
            throws CheckpointException {
        Linear linear = new Linear(shape[1], shape[0], withBias);
        linear.weight.set(tensors.read(path + ".weight", shape, manager));
        if (withBias) {
            linear.bias.set(tensors.read(path + ".bias", new long[] {shape[0]}, manager));
        }
        return linear;
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    public NDArray forward(NDArray x) {
        NDArray b = bias == null ? null : bias.array();
        return x.getNDArrayInternal().linear(x, weight.array(), b).singletonOrThrow(); // [..., I] -> [..., O]
    }

    /** W and b as they are, when both are fp32 (a base cast to fp16 computes differently). */
    @Override
    public Optional<LinearWeights> weights() {
        NDArray w = weight.array();
        NDArray b = bias == null ? null : bias.array();
        boolean fp32 = w.getDataType() == DataType.FLOAT32 && (b == null || b.getDataType() == DataType.FLOAT32);
        return fp32 ? Optional.of(LinearWeights.of(w, b)) : Optional.empty();
    }
}
