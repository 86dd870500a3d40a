package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;

/** A module mapping [..., in] to [..., out]: {@link Linear}, or later an adapter wrapping one. */
public interface LinearLayer {
    NDArray forward(NDArray x);
}
