package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;

/**
 * Keys and values of the tokens seen so far, per layer, after rotary embedding and before
 * repeat_kv: [B, KV, P, D] (B batch, KV key/value heads, P cached positions, D head dim). The
 * arrays live in the cache's own NDManager, so they survive the per-step scopes of generation and
 * are freed when the cache is closed.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;

    public KvCache(NDManager parent, int layers) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /** Number of cached positions P. */
    public int length() {
        return keys[0] == null ? 0 : (int) keys[0].getShape().get(2);
    }

    /**
     * Appends the new keys and values [B, KV, T, D] of a layer and returns all of them [B, KV, P +
     * T, D]. This copies the layer's whole cache (concatenation): O(P) per step, fine for the
     * sequence lengths of fine-tuning evaluation.
     */
    NDArray[] append(int layer, NDArray newKeys, NDArray newValues) {
        NDArray allKeys = keys[layer] == null ? newKeys : keys[layer].concat(newKeys, 2); // [B, KV, P+T, D]
        NDArray allValues = values[layer] == null ? newValues : values[layer].concat(newValues, 2); // [B, KV, P+T, D]
        keep(allKeys);
        keep(allValues);
        if (keys[layer] != null) {
            keys[layer].close();
            values[layer].close();
        }
        keys[layer] = allKeys;
        values[layer] = allValues;
        return new NDArray[] {allKeys, allValues};
    }

    /** Takes an array out of the caller's NDScope and into this cache's manager. */
    private void keep(NDArray array) {
        NDScope.unregister(array);
        array.attach(manager);
    }

    @Override
    public void close() {
        manager.close();
    }
}
