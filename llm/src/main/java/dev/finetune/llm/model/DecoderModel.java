package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.llm.checkpoint.ModelConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The transformer body, HuggingFace's {@code model} submodule: token embedding, the decoder layers
 * ({@code layers.0}, {@code layers.1}, ...) and the final norm.
 *
 * <p>Dimension letters: B batch, T new tokens, P cached tokens, S = P + T, C channels.
 */
public final class DecoderModel extends Module {
    private final ModelConfig config;
    private final Embedding embedTokens;
    private final List<DecoderLayer> layers = new ArrayList<>();
    private final RmsNorm norm;
    private final RotaryEmbedding rotary;

    public DecoderModel(ModelConfig config, NDManager manager) {
        this.config = config;
        this.embedTokens = child("embed_tokens", new Embedding(config.vocabSize(), config.hiddenSize()));
        Module layerList = child("layers", new Module() {}); // children "0", "1", ... like nn.ModuleList
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(layerList.child(Integer.toString(i), new DecoderLayer(config, i, manager)));
        }
        this.norm = child("norm", new RmsNorm(config.hiddenSize(), config.rmsNormEps(), manager));
        this.rotary = child("rotary_emb", new RotaryEmbedding(config.rope(), config.headDim(), manager));
    }

    public Embedding embedTokens() {
        return embedTokens;
    }

    public List<DecoderLayer> layers() {
        return List.copyOf(layers);
    }

    /**
     * @param inputIds token ids [B, T], int64
     * @param paddingMask [B, S]: 1 for real tokens, 0 for padding (cached tokens included), or null
     * @param cache KV cache holding P positions, appended to; or null
     * @return final-normed hidden states [B, T, C]
     */
    public NDArray forward(NDArray inputIds, NDArray paddingMask, KvCache cache) {
        int batch = (int) inputIds.getShape().get(0);
        int length = (int) inputIds.getShape().get(1);
        int past = cache == null ? 0 : cache.length();
        if (paddingMask != null && paddingMask.getShape().get(1) != past + length) {
            throw new IllegalArgumentException(
                    "attention mask covers " + paddingMask.getShape().get(1) + " positions, expected " + (past + length)
                            + " (" + past + " cached + " + length + " new)");
        }
        NDManager manager = inputIds.getManager();
        NDArray positions = AttentionMask.positions(paddingMask, batch, past, length, manager); // [B, T]
        RotaryEmbedding.Angles angles = rotary.angles(positions);
        Map<Integer, NDArray> maskByWindow = new HashMap<>();
        NDArray x = embedTokens.forward(inputIds); // [B, T, C]
        for (int i = 0; i < layers.size(); i++) {
            int window = config.slidingWindowOf(i);
            NDArray mask = maskByWindow.computeIfAbsent(
                    window, w -> AttentionMask.additive(paddingMask, batch, past, length, w, manager)); // [B,1,T,S]
            x = layers.get(i).forward(x, angles, mask, cache);
        }
        return norm.forward(x);
    }
}
