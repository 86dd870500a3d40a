package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.llm.checkpoint.ModelConfig;

/**
 * One pre-norm transformer layer: {@code x = x + attn(norm1(x)); x = x + mlp(norm2(x))}.
 *
 * <p>Dimension letters: B batch, T time, S keys, C channels.
 */
public final class DecoderLayer extends Module {
    private final int index;
    private final Attention selfAttention;
    private final SwiGluMlp mlp;
    private final RmsNorm inputNorm;
    private final RmsNorm postAttentionNorm;

    public DecoderLayer(ModelConfig config, int index, NDManager manager) {
        this.index = index;
        this.selfAttention = child("self_attn", new Attention(config, manager));
        this.mlp = child("mlp", new SwiGluMlp(config.hiddenSize(), config.intermediateSize(), config.mlpBias()));
        this.inputNorm = child("input_layernorm", new RmsNorm(config.hiddenSize(), config.rmsNormEps(), manager));
        this.postAttentionNorm =
                child("post_attention_layernorm", new RmsNorm(config.hiddenSize(), config.rmsNormEps(), manager));
    }

    /** This layer's place in the model, and in the KV cache. */
    int index() {
        return index;
    }

    /** x [B, T, C], mask [B, 1, T, S]; returns [B, T, C]. */
    public NDArray forward(NDArray x, RotaryEmbedding.Angles angles, NDArray mask, KvCache cache) {
        x = x.add(selfAttention.forward(inputNorm.forward(x), angles, mask, cache, index));
        return x.add(mlp.forward(postAttentionNorm.forward(x)));
    }
}
