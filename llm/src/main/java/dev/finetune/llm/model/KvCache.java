package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Keys and values of the tokens seen so far, per layer, after rotary embedding and before any
 * sharing between query heads: [B, KV, capacity, D] (B batch rows, KV key/value heads, D head dim),
 * of which the first {@link #length()} positions are written. Each forward pass writes its new
 * positions in place and reads a view of the written ones, so a decoding step costs no copy of the
 * cache; the buffers grow (by doubling) only if a pass would run past the capacity.
 *
 * <p>The cache also remembers, per row, which cached positions are padding and how many real
 * tokens it holds, so that a decoding step ({@link CausalLm#decode}) needs only the new token ids:
 * its position is the row's count of real tokens, and its additive key bias masks the row's padding.
 *
 * <p>The arrays live in the cache's own NDManager, so they survive the per-step scopes of generation
 * and are freed when the cache is closed.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int capacity;
    private int length;
    /** Per row: real (non-padding) tokens cached, which is the position of the row's next token. */
    private long[] realTokens;
    /** Per row and cached position: true where that position is padding. Null until a row has padding. */
    private boolean[][] padding;
    /** {@link #padding} as an additive bias [B, 1, 1, capacity], made when first asked for. */
    private NDArray keyBias;

    /**
     * @param capacity positions to allocate room for up front (prompt plus new tokens, for generation);
     *     more are made if a pass needs them
     */
    public KvCache(NDManager parent, int layers, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a KV cache needs a capacity of at least 1, got " + capacity);
        }
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.capacity = capacity;
    }

    /** Number of cached positions, padding included. */
    public int length() {
        return length;
    }

    /** Number of batch rows cached; 0 before the first pass. */
    public int rows() {
        return realTokens == null ? 0 : realTokens.length;
    }

    /**
     * Records the padding of the T positions a forward pass is about to add, before its layers
     * append them. Called once per pass by the model.
     *
     * @param columnsArePadding [B][T], true where a new position is padding; null when none is
     */
    void beginPass(int batch, int newPositions, boolean[][] columnsArePadding) {
        if (realTokens == null) {
            realTokens = new long[batch];
        } else if (realTokens.length != batch) {
            throw new IllegalArgumentException("the cache holds " + realTokens.length + " rows, the pass has " + batch);
        }
        ensureCapacity(length + newPositions);
        for (int b = 0; b < batch; b++) {
            int real = newPositions;
            if (columnsArePadding != null) {
                for (int t = 0; t < newPositions; t++) {
                    if (columnsArePadding[b][t]) {
                        padded()[b][length + t] = true;
                        real--;
                    }
                }
            }
            realTokens[b] += real;
        }
        if (columnsArePadding != null) {
            closeKeyBias();
        }
    }

    /**
     * Positions [B, 1] of a decoding step's single new token per row: each row's count of real tokens
     * cached, as {@code cumsum(attention_mask) - 1} counts them.
     */
    NDArray nextPositions(NDManager target) {
        return target.create(realTokens, new Shape(realTokens.length, 1));
    }

    /**
     * The additive bias [B, 1, 1, S] that masks each row's padding among S = {@code keys} key
     * positions (a view; no copy), or null when no row has padding.
     */
    NDArray keyBias(int keyCount) {
        if (padding == null) {
            return null;
        }
        if (keyBias == null) {
            float[] bias = new float[padding.length * capacity];
            for (int b = 0; b < padding.length; b++) {
                for (int s = 0; s < capacity; s++) {
                    bias[b * capacity + s] = padding[b][s] ? AttentionMask.MASKED : 0f;
                }
            }
            keyBias = own(manager.create(bias, new Shape(padding.length, 1, 1, capacity)));
        }
        return keyBias.get(new NDIndex().addAllDim(3).addSliceDim(0, keyCount));
    }

    /**
     * Writes the new keys and values [B, KV, T, D] of a layer after the cached positions and returns
     * views of all of them [B, KV, P + T, D]. The last layer's append completes the pass.
     */
    NDArray[] append(int layer, NDArray newKeys, NDArray newValues) {
        int added = (int) newKeys.getShape().get(2);
        if (keys[layer] == null) {
            keys[layer] = allocate(newKeys, capacity);
            values[layer] = allocate(newValues, capacity);
        }
        NDIndex written = positions(length, length + added);
        keys[layer].set(written, newKeys);
        values[layer].set(written, newValues);
        NDIndex all = positions(0, length + added);
        NDArray[] result = {keys[layer].get(all), values[layer].get(all)};
        if (layer == keys.length - 1) {
            length += added;
        }
        return result;
    }

    /**
     * Layer {@code layer}'s key buffer [B, KV, capacity, D], for a pass that writes its new positions
     * itself ({@link CompiledDecoding}) and then calls {@link #written}; null before the first pass.
     */
    NDArray keyBuffer(int layer) {
        return keys[layer];
    }

    /**
     * Gives every layer its buffers [B, KV, capacity, D] of fp32 zeros, unless it has them already: for
     * a first pass that writes its positions itself ({@link CompiledDecoding}).
     */
    void allocateBuffers(int batch, int keyValueHeads, int headDim) {
        Shape shape = new Shape(batch, keyValueHeads, capacity, headDim);
        for (int layer = 0; layer < keys.length; layer++) {
            if (keys[layer] == null) {
                keys[layer] = own(manager.zeros(shape, DataType.FLOAT32));
                values[layer] = own(manager.zeros(shape, DataType.FLOAT32));
            }
        }
    }

    /** Layer {@code layer}'s value buffer, as {@link #keyBuffer}. */
    NDArray valueBuffer(int layer) {
        return values[layer];
    }

    /** Completes a pass that wrote {@code added} positions into every layer's buffers itself. */
    void written(int added) {
        if (length + added > capacity) {
            throw new IllegalStateException(
                    "a pass wrote " + added + " positions after " + length + " into a cache of " + capacity);
        }
        length += added;
    }

    /**
     * HuggingFace's {@code attention_mask} [B, P + T] for a pass of T new real tokens after the P cached
     * positions: 0 at each row's cached padding, 1 elsewhere; null when no row has padding.
     */
    NDArray paddingMask(int newPositions, NDManager target) {
        if (padding == null) {
            return null;
        }
        int width = length + newPositions;
        long[] mask = new long[padding.length * width];
        for (int b = 0; b < padding.length; b++) {
            for (int s = 0; s < width; s++) {
                mask[b * width + s] = s < length && padding[b][s] ? 0 : 1;
            }
        }
        return target.create(mask, new Shape(padding.length, width));
    }

    /**
     * Forgets the last positions written, down to {@code positions}: a speculative pass's rejected
     * draft tokens. The dropped positions must hold real tokens (not padding) in every row; their
     * slots are written over by the next pass.
     */
    public void truncate(int positions) {
        if (positions < 0 || positions > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " positions to " + positions);
        }
        for (int b = 0; padding != null && b < padding.length; b++) {
            for (int s = positions; s < length; s++) {
                if (padding[b][s]) {
                    throw new IllegalStateException("position " + s + " of row " + b + " is padding");
                }
            }
        }
        for (int b = 0; b < rows(); b++) {
            realTokens[b] -= length - positions;
        }
        length = positions;
    }

    /**
     * Keeps the batch rows {@code rows} in that order: a row may be dropped (a finished sequence), or
     * repeated (several samples continuing one prompt share its prefill). Copies each layer's cache
     * once.
     */
    public void selectRows(long[] rows) {
        for (long row : rows) {
            if (row < 0 || row >= rows()) {
                throw new IllegalArgumentException("row " + row + " is not in the cache's " + rows() + " rows");
            }
        }
        try (NDArray index = manager.create(rows)) {
            for (int layer = 0; layer < keys.length; layer++) {
                if (keys[layer] != null) {
                    keys[layer] = replace(keys[layer], keys[layer].get(index));
                    values[layer] = replace(values[layer], values[layer].get(index));
                }
            }
        }
        long[] selectedTokens = new long[rows.length];
        boolean[][] selectedPadding = padding == null ? null : new boolean[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            selectedTokens[i] = realTokens[(int) rows[i]];
            if (padding != null) {
                selectedPadding[i] = padding[(int) rows[i]].clone();
            }
        }
        realTokens = selectedTokens;
        padding = selectedPadding;
        closeKeyBias();
    }

    /**
     * Positions [from, to) of a [B, KV, capacity, D] buffer: {@code ":, :, from:to"}, built directly, as a
     * decoding step makes four of these per layer and parsing the text form would cost more than the copy.
     */
    private static NDIndex positions(long from, long to) {
        return new NDIndex().addAllDim(2).addSliceDim(from, to);
    }

    private void ensureCapacity(int needed) {
        if (needed <= capacity) {
            return;
        }
        int grown = Math.max(needed, 2 * capacity);
        for (int layer = 0; layer < keys.length; layer++) {
            if (keys[layer] != null) {
                keys[layer] = grow(keys[layer], grown);
                values[layer] = grow(values[layer], grown);
            }
        }
        if (padding != null) {
            for (int b = 0; b < padding.length; b++) {
                padding[b] = Arrays.copyOf(padding[b], grown);
            }
            closeKeyBias();
        }
        capacity = grown;
    }

    private boolean[][] padded() {
        if (padding == null) {
            padding = new boolean[realTokens.length][capacity];
        }
        return padding;
    }

    /** A zero buffer [B, KV, capacity, D] of the new array's type, owned by the cache. */
    private NDArray allocate(NDArray like, int positions) {
        Shape shape = like.getShape();
        return own(manager.zeros(new Shape(shape.get(0), shape.get(1), positions, shape.get(3)), like.getDataType()));
    }

    private NDArray grow(NDArray buffer, int positions) {
        NDArray bigger = allocate(buffer, positions);
        if (length > 0) {
            NDIndex written = positions(0, length);
            bigger.set(written, buffer.get(written));
        }
        buffer.close();
        return bigger;
    }

    /** Moves {@code replacement} into the cache and frees {@code old}. */
    private NDArray replace(NDArray old, NDArray replacement) {
        old.close();
        return own(replacement);
    }

    /** Takes an array out of the caller's NDScope (which would free it at the end of the step) into the cache. */
    private NDArray own(NDArray array) {
        NDScope.unregister(array);
        array.attach(manager);
        return array;
    }

    private void closeKeyBias() {
        if (keyBias != null) {
            keyBias.close();
            keyBias = null;
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
