package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.llm.checkpoint.ModelConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

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
        return layersForward(
                inputIds,
                positions,
                window -> AttentionMask.additive(paddingMask, batch, past, length, window, manager),
                cache);
    }

    /**
     * Packed sequences: several examples share a row, each example's position ids count from 0, and
     * a token attends only to earlier tokens of its own example (an example starts where its position
     * id is 0). A row of one example with positions 0..T-1 gives exactly {@link #forward}'s result.
     *
     * @param inputIds token ids [B, T], int64
     * @param positionIds position ids [B, T], int64, restarting at 0 for each packed example
     * @return final-normed hidden states [B, T, C]
     */
    public NDArray forwardPacked(NDArray inputIds, NDArray positionIds) {
        if (!positionIds.getShape().equals(inputIds.getShape())) {
            throw new IllegalArgumentException(
                    "position ids " + positionIds.getShape() + " do not match input ids " + inputIds.getShape());
        }
        NDManager manager = inputIds.getManager();
        return layersForward(inputIds, positionIds, window -> AttentionMask.packed(positionIds, window, manager), null);
    }

    /**
     * A training forward pass over unpadded or padded rows, like {@link #forward} without a cache,
     * checkpointing the layers' activations if {@code checkpointing} (see {@link TrainingPass}).
     */
    public TrainingPass trainingForward(NDArray inputIds, NDArray paddingMask, boolean checkpointing) {
        int batch = (int) inputIds.getShape().get(0);
        int length = (int) inputIds.getShape().get(1);
        NDManager manager = inputIds.getManager();
        NDArray positions = AttentionMask.positions(paddingMask, batch, 0, length, manager); // [B, T]
        return trainingPass(
                inputIds,
                positions,
                window -> AttentionMask.additive(paddingMask, batch, 0, length, window, manager),
                checkpointing);
    }

    /** A training forward pass over packed rows, like {@link #forwardPacked}; see {@link TrainingPass}. */
    public TrainingPass trainingForwardPacked(NDArray inputIds, NDArray positionIds, boolean checkpointing) {
        NDManager manager = inputIds.getManager();
        return trainingPass(
                inputIds, positionIds, window -> AttentionMask.packed(positionIds, window, manager), checkpointing);
    }

    private TrainingPass trainingPass(
            NDArray inputIds, NDArray positions, IntFunction<NDArray> maskOfWindow, boolean checkpointing) {
        RotaryEmbedding.Angles angles = rotary.angles(positions);
        List<NDArray> masks = masks(maskOfWindow); // made once, outside the layers' scopes: the replay reuses them
        NDArray embedded = embedTokens.forward(inputIds); // [B, T, C]
        boolean embeddingTrains = embedTokens.weight().array().hasGradient(); // a leaf: DJL answers truly
        return TrainingPass.run(
                embedded,
                embeddingTrains,
                layers,
                (i, x) -> layers.get(i).forward(x, angles, masks.get(i), null),
                norm,
                checkpointing);
    }

    /** Embedding, the layers with one additive mask [B, 1, T, S] per distinct sliding window, the final norm. */
    private NDArray layersForward(
            NDArray inputIds, NDArray positions, IntFunction<NDArray> maskOfWindow, KvCache cache) {
        RotaryEmbedding.Angles angles = rotary.angles(positions);
        List<NDArray> masks = masks(maskOfWindow);
        NDArray x = embedTokens.forward(inputIds); // [B, T, C]
        for (int i = 0; i < layers.size(); i++) {
            x = layers.get(i).forward(x, angles, masks.get(i), cache);
        }
        return norm.forward(x);
    }

    /** Each layer's additive mask [B, 1, T, S], one array per distinct sliding window. */
    private List<NDArray> masks(IntFunction<NDArray> maskOfWindow) {
        Map<Integer, NDArray> maskByWindow = new HashMap<>();
        List<NDArray> masks = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            masks.add(maskByWindow.computeIfAbsent(config.slidingWindowOf(i), maskOfWindow::apply));
        }
        return masks;
    }
}
