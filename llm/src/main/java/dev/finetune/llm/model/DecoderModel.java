package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.checkpoint.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
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
    /** The child name of the token embedding, HF's {@code embed_tokens}. */
    public static final String EMBED_TOKENS = "embed_tokens";

    private final ModelConfig config;
    private final List<DecoderLayer> layers = new ArrayList<>();
    private final RmsNorm norm;
    private final RotaryEmbedding rotary;

    public DecoderModel(ModelConfig config, NDManager manager) {
        this.config = config;
        child(EMBED_TOKENS, new Embedding(config.vocabSize(), config.hiddenSize()));
        Module layerList = child("layers", new Module() {}); // children "0", "1", ... like nn.ModuleList
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(layerList.child(Integer.toString(i), new DecoderLayer(config, i, manager)));
        }
        this.norm = child("norm", new RmsNorm(config.hiddenSize(), config.rmsNormEps(), manager));
        this.rotary = child("rotary_emb", new RotaryEmbedding(config.rope(), config.headDim(), manager));
    }

    /**
     * The token embedding: the fp32 {@link Embedding} built here, or what a quantised storage replaced
     * it with when the model was loaded (see {@link LinearStorage#frozenEmbedding}).
     */
    public TokenEmbedding embedTokens() {
        return (TokenEmbedding) child(EMBED_TOKENS);
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
        Pass pass = beginForward(inputIds, paddingMask, cache);
        return layersForward(inputIds, pass.positions(), pass.masks(), cache);
    }

    /**
     * Begins {@link #forward}'s pass, whose layers run there or compiled ({@link CompiledDecoding}):
     * checks the padding mask covers the cached and new positions, records the pass in {@code cache},
     * if any, and returns what the layers need besides the ids.
     */
    Pass beginForward(NDArray inputIds, NDArray paddingMask, KvCache cache) {
        int length = (int) inputIds.getShape().get(1);
        int past = cache == null ? 0 : cache.length();
        if (paddingMask != null && paddingMask.getShape().get(1) != past + length) {
            throw new IllegalArgumentException(
                    "attention mask covers " + paddingMask.getShape().get(1) + " positions, expected " + (past + length)
                            + " (" + past + " cached + " + length + " new)");
        }
        return begin(inputIds, paddingMask, cache);
    }

    /**
     * What the layers need for T new tokens per row [B, T] besides the ids: their positions [B, T] and
     * each layer's additive mask [B, 1, T, S], from the padding mask [B, P + T]; records the pass in
     * {@code cache}, if any.
     */
    private Pass begin(NDArray inputIds, NDArray paddingMask, KvCache cache) {
        int batch = (int) inputIds.getShape().get(0);
        int length = (int) inputIds.getShape().get(1);
        int past = cache == null ? 0 : cache.length();
        NDManager manager = inputIds.getManager();
        NDArray positions = AttentionMask.positions(paddingMask, batch, past, length, manager); // [B, T]
        if (cache != null) {
            cache.beginPass(batch, length, paddingColumns(paddingMask, past));
        }
        return new Pass(
                positions, masks(window -> AttentionMask.additive(paddingMask, batch, past, length, window, manager)));
    }

    /** The positions [B, T] of a pass's new tokens and each layer's additive mask [B, 1, T, S] (or null). */
    record Pass(NDArray positions, List<NDArray> masks) {}

    /**
     * One decoding step: the next token of each row [B, 1] after the tokens in {@code cache}, which
     * knows each row's position and padding, so nothing else is built per step but the rotary angles
     * of the B positions (and, past a sliding window, that window's bias).
     *
     * @return final-normed hidden states [B, 1, C]
     */
    public NDArray decode(NDArray inputIds, KvCache cache) {
        DecodingStep step = beginDecoding(inputIds, cache);
        NDManager manager = inputIds.getManager();
        return layersForward(
                inputIds,
                step.positions(),
                masks(window -> slidingBias(step.padding(), step.keys(), window, manager)),
                cache);
    }

    /**
     * Begins a decoding step of {@code inputIds} [B, 1] after the tokens in {@code cache}, whose layers
     * run here ({@link #decode}) or compiled ({@link CompiledDecoding}): records the step in the cache
     * and returns each row's position and the bias of its padding.
     */
    DecodingStep beginDecoding(NDArray inputIds, KvCache cache) {
        int batch = (int) inputIds.getShape().get(0);
        if (inputIds.getShape().get(1) != 1) {
            throw new IllegalArgumentException("a decoding step takes one token per row, got " + inputIds.getShape());
        }
        requireFilled(cache, batch, "a decoding step");
        NDArray positions = cache.nextPositions(inputIds.getManager()); // [B, 1]
        cache.beginPass(batch, 1, null);
        int keys = cache.length() + 1;
        return new DecodingStep(positions, cache.keyBias(keys), keys);
    }

    /**
     * A decoding step's positions [B, 1], the additive bias [B, 1, 1, S] of each row's padding among
     * its S = {@code keys} keys (null when no row has padding), and S.
     */
    record DecodingStep(NDArray positions, NDArray padding, int keys) {}

    /**
     * T new real tokens per row [B, T] after the tokens in {@code cache}, which supplies each row's
     * positions and padding: {@link #forward} with the cache's own mask, so the caller needs only
     * the ids (a speculative decoding step checking T - 1 draft tokens).
     *
     * @return final-normed hidden states [B, T, C]
     */
    public NDArray extend(NDArray inputIds, KvCache cache) {
        Pass pass = beginExtending(inputIds, cache);
        return layersForward(inputIds, pass.positions(), pass.masks(), cache);
    }

    /**
     * Begins a pass of T new real tokens per row {@code inputIds} [B, T] after the tokens in {@code
     * cache}, whose layers run here ({@link #extend}) or compiled ({@link CompiledDecoding}): records
     * the pass in the cache and returns what the layers need besides the ids, made from the cache's
     * padding as {@link #forward} makes them from a padding mask.
     */
    Pass beginExtending(NDArray inputIds, KvCache cache) {
        requireFilled(cache, (int) inputIds.getShape().get(0), "an extending pass");
        int length = (int) inputIds.getShape().get(1);
        return begin(inputIds, cache.paddingMask(length, inputIds.getManager()), cache);
    }

    /** A pass that takes positions and padding from {@code cache} needs it filled, with one row per batch row. */
    private static void requireFilled(KvCache cache, int batch, String pass) {
        if (cache.length() == 0 || cache.rows() != batch) {
            throw new IllegalArgumentException(pass + " continues a cache of " + batch + " rows; it holds "
                    + cache.rows() + " rows of " + cache.length() + " positions");
        }
    }

    /**
     * The bias [B, 1, 1, S] of one query at the last of S keys: the padding bias plus, when a sliding
     * window is shorter than S, the keys it no longer sees ((S - 1) - s >= window, as HF's mask);
     * null when every key is visible.
     */
    private static NDArray slidingBias(NDArray padding, int keys, int window, NDManager manager) {
        if (window <= 0 || keys <= window) {
            return padding;
        }
        float[] outside = new float[keys];
        Arrays.fill(outside, 0, keys - window, AttentionMask.MASKED);
        NDArray bias = manager.create(outside, new Shape(1, 1, 1, keys));
        return padding == null ? bias : padding.add(bias);
    }

    /** [B][T]: which of the T new columns of a padding mask [B, P + T] are padding; null if none. */
    private static boolean[][] paddingColumns(NDArray paddingMask, int past) {
        if (paddingMask == null) {
            return null;
        }
        int batch = (int) paddingMask.getShape().get(0);
        int width = (int) paddingMask.getShape().get(1);
        long[] mask = paddingMask.toLongArray();
        boolean[][] columns = new boolean[batch][width - past];
        boolean any = false;
        for (int b = 0; b < batch; b++) {
            for (int t = past; t < width; t++) {
                columns[b][t - past] = mask[b * width + t] == 0;
                any |= columns[b][t - past];
            }
        }
        return any ? columns : null;
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
        return layersForward(
                inputIds, positionIds, masks(window -> AttentionMask.packed(positionIds, window, manager)), null);
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
        TokenEmbedding embedding = embedTokens();
        NDArray embedded = embedding.forward(inputIds); // [B, T, C]
        boolean embeddingTrains = embedding.trains();
        return TrainingPass.run(
                embedded,
                embeddingTrains,
                layers,
                (i, x) -> layers.get(i).forward(x, angles, masks.get(i), null),
                norm,
                checkpointing);
    }

    /** Embedding, the layers with one additive mask [B, 1, T, S] per distinct sliding window, the final norm. */
    private NDArray layersForward(NDArray inputIds, NDArray positions, List<NDArray> masks, KvCache cache) {
        RotaryEmbedding.Angles angles = rotary.angles(positions);
        NDArray x = embedTokens().forward(inputIds); // [B, T, C]
        boolean recording = GradientMode.isRecording();
        for (int i = 0; i < layers.size(); i++) {
            x = recording
                    ? layers.get(i).forward(x, angles, masks.get(i), cache)
                    : layerFreeingItsIntermediates(layers.get(i), x, angles, masks.get(i), cache);
        }
        return norm.forward(x);
    }

    /**
     * A layer's forward pass when nothing is recorded for backward, its intermediate arrays (about 45
     * for a decoding step) freed as soon as it returns rather than with the caller's scope, so the
     * next layer's arrays reuse memory that is still in cache: decoding steps took 3-12% less time
     * (nine alternating runs of the inference benchmark's model, 2026-12-06). Only the output lives
     * on, in the caller's scope.
     */
    @SuppressWarnings("try")
    private static NDArray layerFreeingItsIntermediates(
            DecoderLayer layer, NDArray x, RotaryEmbedding.Angles angles, NDArray mask, KvCache cache) {
        NDArray out;
        try (NDScope layerScope = new NDScope()) {
            out = layer.forward(x, angles, mask, cache);
            NDScope.unregister(out);
        }
        NDScope.register(out); // the caller's scope owns the output
        return out;
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
