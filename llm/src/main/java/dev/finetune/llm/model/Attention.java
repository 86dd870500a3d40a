package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.llm.checkpoint.ModelConfig;

/**
 * Causal grouped-query self-attention, HuggingFace's eager path: project, (qwen3) RMSNorm each head
 * of q and k, rotate q and k, append to the KV cache, repeat key/value heads to match the query
 * heads, softmax(q k^T / sqrt(D) + mask) v in fp32, project back.
 *
 * <p>Dimension letters: B batch, T new tokens, S keys (cached + new), C channels, H query heads,
 * KV key/value heads, D head dim.
 */
public final class Attention extends Module {
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final RmsNorm queryNorm;
    private final RmsNorm keyNorm;
    /** 1/sqrt(D) as an array: a Java scalar on the gradient path is freed while autograd needs it. */
    private final NDArray scale;

    public Attention(ModelConfig config, NDManager manager) {
        this.heads = config.numAttentionHeads();
        this.kvHeads = config.numKeyValueHeads();
        this.headDim = config.headDim();
        int channels = config.hiddenSize();
        child("q_proj", new Linear(channels, (long) heads * headDim, config.qkvBias()));
        child("k_proj", new Linear(channels, (long) kvHeads * headDim, config.qkvBias()));
        child("v_proj", new Linear(channels, (long) kvHeads * headDim, config.qkvBias()));
        child("o_proj", new Linear((long) heads * headDim, channels, config.outputBias()));
        if (config.qkNorm()) {
            queryNorm = child("q_norm", new RmsNorm(headDim, config.rmsNormEps(), manager));
            keyNorm = child("k_norm", new RmsNorm(headDim, config.rmsNormEps(), manager));
        } else {
            queryNorm = null;
            keyNorm = null;
        }
        this.scale = manager.create((float) Math.pow(headDim, -0.5));
    }

    /**
     * @param x input [B, T, C]
     * @param angles rotary angles of the T new positions
     * @param mask additive mask [B, 1, T, S]
     * @param cache the model's KV cache, or null to attend only to these T tokens
     * @param layer index of this layer in the cache
     */
    public NDArray forward(NDArray x, RotaryEmbedding.Angles angles, NDArray mask, KvCache cache, int layer) {
        long batch = x.getShape().get(0);
        long time = x.getShape().get(1);
        if (time == 1 && cache != null) {
            return forwardOneToken(x, angles, mask, cache, layer);
        }
        NDArray q = linear("q_proj").forward(x).reshape(batch, time, heads, headDim); // [B, T, H, D]
        NDArray k = linear("k_proj").forward(x).reshape(batch, time, kvHeads, headDim); // [B, T, KV, D]
        NDArray v = linear("v_proj").forward(x).reshape(batch, time, kvHeads, headDim); // [B, T, KV, D]
        if (queryNorm != null) {
            q = queryNorm.forward(q); // per head, over D
            k = keyNorm.forward(k);
        }
        q = angles.apply(q.transpose(0, 2, 1, 3)); // [B, H, T, D]
        k = angles.apply(k.transpose(0, 2, 1, 3)); // [B, KV, T, D]
        v = v.transpose(0, 2, 1, 3); // [B, KV, T, D]
        if (cache != null) {
            NDArray[] all = cache.append(layer, k, v);
            k = all[0]; // [B, KV, S, D]
            v = all[1]; // [B, KV, S, D]
        }
        k = repeatKeyValueHeads(k); // [B, H, S, D]
        v = repeatKeyValueHeads(v); // [B, H, S, D]
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)) // [B, H, T, D] x [B, H, D, S] -> [B, H, T, S]
                .mul(scale)
                .add(mask); // + [B, 1, T, S]
        NDArray probabilities = softmaxFp32(scores); // [B, H, T, S]
        NDArray out = probabilities.matMul(v); // [B, H, T, S] x [B, H, S, D] -> [B, H, T, D]
        out = out.transpose(0, 2, 1, 3).reshape(batch, time, (long) heads * headDim); // [B, T, H*D]
        return linear("o_proj").forward(out); // [B, T, C]
    }

    /**
     * A decoding step, one new token per row, with as few engine calls as the engine allows: each
     * key/value head attends for its group of G = H / KV query heads at once ([B, KV, G, D] against
     * [B, KV, S, D]), so keys and values are never repeated or copied, and a token needs no
     * transposes. The same arithmetic as {@link #forward}'s general path.
     *
     * @param x input [B, 1, C]
     * @param mask additive [B, 1, 1, S], or null when every key may be attended to
     */
    private NDArray forwardOneToken(NDArray x, RotaryEmbedding.Angles angles, NDArray mask, KvCache cache, int layer) {
        long batch = x.getShape().get(0);
        int group = heads / kvHeads;
        NDArray q = linear("q_proj").forward(x).reshape(batch, kvHeads, group, headDim); // [B, KV, G, D]
        NDArray k = linear("k_proj").forward(x).reshape(batch, kvHeads, 1, headDim); // [B, KV, 1, D]
        NDArray v = linear("v_proj").forward(x).reshape(batch, kvHeads, 1, headDim); // [B, KV, 1, D]
        if (queryNorm != null) {
            q = queryNorm.forward(q); // per head, over D
            k = keyNorm.forward(k);
        }
        q = angles.apply(q); // cos, sin [B, 1, 1, D] broadcast over KV and G
        k = angles.apply(k);
        NDArray[] all = cache.append(layer, k, v);
        NDArray scores = q.matMul(all[0].transpose(0, 1, 3, 2)) // [B, KV, G, D] x [B, KV, D, S] -> [B, KV, G, S]
                .mul(scale);
        if (mask != null) {
            scores = scores.add(mask); // + [B, 1, 1, S]
        }
        NDArray out = softmaxFp32(scores).matMul(all[1]); // [B, KV, G, S] x [B, KV, S, D] -> [B, KV, G, D]
        return linear("o_proj").forward(out.reshape(batch, 1, (long) heads * headDim)); // [B, 1, C]
    }

    /** HF's repeat_kv: each key/value head serves H / KV consecutive query heads. */
    private NDArray repeatKeyValueHeads(NDArray kv) {
        if (heads == kvHeads) {
            return kv;
        }
        long batch = kv.getShape().get(0);
        long keys = kv.getShape().get(2);
        return kv.expandDims(2) // [B, KV, 1, S, D]
                .broadcast(batch, kvHeads, heads / kvHeads, keys, headDim) // [B, KV, H/KV, S, D]
                .reshape(batch, heads, keys, headDim); // [B, H, S, D]
    }

    /** Softmax over keys in fp32 whatever the compute dtype, cast back as HF does. */
    private static NDArray softmaxFp32(NDArray scores) {
        if (scores.getDataType() == DataType.FLOAT32) {
            return scores.softmax(3);
        }
        return scores.toType(DataType.FLOAT32, false).softmax(3).toType(scores.getDataType(), false);
    }
}
