package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Masks and positions for a forward pass over T new tokens after P cached ones (S = P + T keys).
 * The padding mask is HuggingFace's {@code attention_mask}: [B, S], 1 for real tokens and 0 for
 * padding, covering the cached tokens too. Masks are constants: no gradient flows through them.
 */
final class AttentionMask {
    /**
     * Added to the scores of masked keys. Half of fp32's lowest value, so that a causal and a
     * padding term can be added without overflowing to -inf: a query whose keys are all masked (a
     * padding position) then gets a finite, meaningless row instead of NaN.
     */
    static final float MASKED = -0.5f * Float.MAX_VALUE;

    private AttentionMask() {}

    /**
     * Position ids [B, T] of the new tokens. With a padding mask they count real tokens only
     * ({@code cumsum(mask) - 1}, 1 at padding), as transformers' generate() computes them, so a
     * left-padded sequence gets the same positions as it would alone.
     */
    static NDArray positions(NDArray paddingMask, int batch, int past, int length, NDManager manager) {
        if (paddingMask == null) {
            return manager.arange(past, past + length, 1, DataType.INT64)
                    .expandDims(0) // [1, T]
                    .broadcast(new Shape(batch, length)); // [B, T]
        }
        NDArray counted = paddingMask.cumSum(1).sub(1); // [B, S]
        NDArray positions =
                NDArrays.where(paddingMask.eq(0), manager.ones(counted.getShape(), DataType.INT64), counted);
        return positions.get(new NDIndex(":, {}:", past)); // [B, T]
    }

    /**
     * Additive mask [B, 1, T, S]: 0 where query t may attend to key s, {@link #MASKED} elsewhere.
     * Causal (s <= P + t), within the sliding window if {@code window > 0} ((P + t) - s < window,
     * in absolute indices as HF's sliding-window mask), and not padding. The causal and padding
     * terms are combined additively.
     */
    static NDArray additive(NDArray paddingMask, int batch, int past, int length, int window, NDManager manager) {
        int keys = past + length;
        NDArray query = manager.arange(past, keys, 1, DataType.INT64).expandDims(1); // [T, 1]
        NDArray key = manager.arange(0, keys, 1, DataType.INT64).expandDims(0); // [1, S]
        NDArray allowed = key.lte(query); // [T, S]
        if (window > 0) {
            allowed = allowed.logicalAnd(query.sub(key).lt(window)); // [T, S]
        }
        NDArray causal = allowed.logicalNot()
                .toType(DataType.FLOAT32, false)
                .mul(MASKED)
                .reshape(1, 1, length, keys); // [1, 1, T, S]
        if (paddingMask == null) {
            return causal.broadcast(new Shape(batch, 1, length, keys)); // [B, 1, T, S]
        }
        NDArray padding = paddingMask
                .eq(0)
                .toType(DataType.FLOAT32, false)
                .mul(MASKED)
                .reshape(batch, 1, 1, keys); // [B, 1, 1, S]
        return causal.add(padding); // [B, 1, T, S]
    }

    /**
     * Additive mask [B, 1, T, T] for packed rows: query t may attend to key s when both belong to the
     * same example (an example starts at each position id 0), s <= t, and, if {@code window > 0},
     * t - s < window.
     *
     * @param positionIds [B, T], restarting at 0 for each packed example
     */
    static NDArray packed(NDArray positionIds, int window, NDManager manager) {
        long batch = positionIds.getShape().get(0);
        int length = (int) positionIds.getShape().get(1);
        NDArray example = positionIds.eq(0).toType(DataType.INT64, false).cumSum(1); // [B, T]
        NDArray sameExample = example.expandDims(2).eq(example.expandDims(1)); // [B, T, 1] == [B, 1, T] -> [B, T, T]
        NDArray query = manager.arange(0, length, 1, DataType.INT64).expandDims(1); // [T, 1]
        NDArray key = manager.arange(0, length, 1, DataType.INT64).expandDims(0); // [1, T]
        NDArray allowed = key.lte(query); // [T, T]
        if (window > 0) {
            allowed = allowed.logicalAnd(query.sub(key).lt(window)); // [T, T]
        }
        return sameExample
                .logicalAnd(allowed) // [B, T, T]
                .logicalNot()
                .toType(DataType.FLOAT32, false)
                .mul(MASKED)
                .reshape(batch, 1, length, length); // [B, 1, T, T]
    }
}
