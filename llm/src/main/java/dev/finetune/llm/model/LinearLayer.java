package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import java.util.Optional;

/** A module mapping [..., in] to [..., out]: {@link Linear}, or an adapter or quantised layer in its place. */
public interface LinearLayer {
    NDArray forward(NDArray x);

    /**
     * The fp32 arrays this layer computes with right now, for a compiled decoding step; empty when its
     * arithmetic is not a plain (or LoRA-updated) fp32 product, e.g. a quantised base.
     */
    default Optional<LinearWeights> weights() {
        return Optional.empty();
    }
}
