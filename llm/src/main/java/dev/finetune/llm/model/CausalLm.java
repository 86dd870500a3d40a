package dev.finetune.llm.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.finetune.llm.checkpoint.Checkpoint;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A decoder-only language model of the Llama family (llama, mistral, qwen2, qwen3), laid out as
 * HuggingFace's {@code *ForCausalLM}: the body {@code model} and the head {@code lm_head}, which is
 * the token embedding itself when {@code tie_word_embeddings} is set.
 *
 * <p>The model owns an NDManager holding its weights. {@link #forward} creates its temporaries in
 * the caller's current NDScope (or the input's manager): callers run each step inside an NDScope
 * so that memory stays flat (see the inference package).
 *
 * <p>Dimension letters: B batch, T new tokens, S = cached + new tokens, C channels, V vocabulary.
 */
public final class CausalLm extends Module implements AutoCloseable {
    private final ModelConfig config;
    private final NDManager manager;
    private final DecoderModel body;
    private final Linear lmHead;
    private boolean gradientCheckpointing;

    /** Builds the module tree with unset parameters; load or initialise weights next. */
    public CausalLm(ModelConfig config, Device device) {
        this.config = config;
        this.manager = NDManager.newBaseManager(device);
        this.body = child("model", new DecoderModel(config, manager));
        this.lmHead = config.tieWordEmbeddings()
                ? null
                : child("lm_head", new Linear(config.hiddenSize(), config.vocabSize(), false));
    }

    /** Loads a model directory in HuggingFace layout onto {@code device}, every weight in fp32. */
    public static CausalLm load(Path directory, Device device) throws CheckpointException {
        return load(directory, device, LinearStorage.FP32);
    }

    /**
     * Loads a model directory in HuggingFace layout onto {@code device}, tensor by tensor, the decoder
     * layers' linears stored as {@code storage} says, and the token embedding too if the storage
     * freezes it (int8 and nf4 bases: see {@code BaseStorage}); norms and an untied LM head in fp32. The
     * peak while loading is the model as stored plus about one fp32 tensor: a quantised model is never
     * whole in fp32 on the way.
     */
    public static CausalLm load(Path directory, Device device, LinearStorage storage) throws CheckpointException {
        try (Checkpoint checkpoint = Checkpoint.open(directory)) {
            CausalLm model = new CausalLm(checkpoint.config(), device);
            try {
                ModelWeights.load(model, checkpoint.tensors(), storage);
            } catch (CheckpointException | RuntimeException e) {
                model.close();
                throw e;
            }
            return model;
        }
    }

    /**
     * Checks that a checkpoint holds exactly the tensors a model of its config needs, each with a
     * float dtype the engine stores and the shape the config implies, without reading any weight:
     * the model tree is built with unset parameters only to name and shape them.
     *
     * @throws CheckpointException naming the file and the tensor that is missing, of the wrong dtype
     *     or shape, or not a parameter of the model
     */
    public static void verify(Checkpoint checkpoint) throws CheckpointException {
        try (CausalLm skeleton = new CausalLm(checkpoint.config(), Device.cpu())) {
            ModelWeights.verify(skeleton, checkpoint.tensors());
        }
    }

    /** Loads onto CUDA if the engine sees a GPU, else the CPU. */
    public static CausalLm load(Path directory) throws CheckpointException {
        return load(directory, preferredDevice());
    }

    public static Device preferredDevice() {
        return Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
    }

    /** Writes config.json and the weights ({@code dtype} F32, F16 or BF16) in HuggingFace layout. */
    public void save(Path directory, DType dtype) throws IOException {
        ModelWeights.save(this, directory, dtype, Long.MAX_VALUE);
    }

    /** As {@link #save}, sharding the weights into files of at most {@code maxShardBytes}. */
    public void save(Path directory, DType dtype, long maxShardBytes) throws IOException {
        ModelWeights.save(this, directory, dtype, maxShardBytes);
    }

    public ModelConfig config() {
        return config;
    }

    /** The manager holding the weights; create inputs on it (inside an NDScope). */
    public NDManager manager() {
        return manager;
    }

    public DecoderModel body() {
        return body;
    }

    /** An empty KV cache with room for {@code capacity} positions (it grows if a pass needs more). */
    public KvCache newCache(int capacity) {
        return new KvCache(manager, config.numHiddenLayers(), capacity);
    }

    /**
     * Logits for every new position. Position ids count real tokens only ({@code cumsum(mask) - 1},
     * as transformers' generate() computes them), so a left-padded row gives the logits of the same
     * sequence unpadded. With right padding (or none) this is exactly HF's default arange positions.
     *
     * @param inputIds [B, T] int64
     * @param paddingMask [B, S] int64, 1 = token, 0 = padding (left or right); null means no padding
     * @param cache KV cache to read and extend, or null
     * @return logits [B, T, V], fp32
     */
    public NDArray forward(NDArray inputIds, NDArray paddingMask, KvCache cache) {
        return logits(body.forward(inputIds, paddingMask, cache));
    }

    /**
     * Logits of packed rows, for training on several short examples per row: see {@link
     * DecoderModel#forwardPacked}. Each example gets the logits it would get alone.
     *
     * @param inputIds [B, T] int64
     * @param positionIds [B, T] int64, restarting at 0 at the first token of each example
     * @return logits [B, T, V], fp32
     */
    public NDArray forwardPacked(NDArray inputIds, NDArray positionIds) {
        return logits(body.forwardPacked(inputIds, positionIds));
    }

    /**
     * HF's {@code gradient_checkpointing_enable()}: training forward passes keep only each decoder
     * layer's input and rebuild its activations during backward (see {@link TrainingPass}).
     */
    public void setGradientCheckpointing(boolean enabled) {
        this.gradientCheckpointing = enabled;
    }

    public boolean gradientCheckpointing() {
        return gradientCheckpointing;
    }

    /**
     * The forward pass of training up to the final-normed hidden states [B, T, C]; apply {@link
     * #logits} to them (in chunks of rows), back-propagate, then call {@link TrainingPass#backward}.
     *
     * @param inputIds [B, T] int64
     * @param paddingMask [B, T] int64, 1 = token, 0 = padding; null means no padding
     */
    public TrainingPass trainingForward(NDArray inputIds, NDArray paddingMask) {
        return body.trainingForward(inputIds, paddingMask, gradientCheckpointing);
    }

    /** {@link #trainingForward} over packed rows: see {@link #forwardPacked}. */
    public TrainingPass trainingForwardPacked(NDArray inputIds, NDArray positionIds) {
        return body.trainingForwardPacked(inputIds, positionIds, gradientCheckpointing);
    }

    /** Logits of the last new position only [B, V]: what generation needs, without the [B, T, V] head. */
    public NDArray forwardLast(NDArray inputIds, NDArray paddingMask, KvCache cache) {
        NDArray hidden = body.forward(inputIds, paddingMask, cache); // [B, T, C]
        long time = hidden.getShape().get(1);
        return logits(hidden.get(new NDIndex(":, {}:", time - 1))).squeeze(1); // [B, 1, V] -> [B, V]
    }

    /**
     * Logits [B, V] of one decoding step: the next token of each row [B, 1] after the tokens in
     * {@code cache} (filled by {@link #forwardLast} or {@link #forward} first), which supplies each
     * row's position and padding. See {@link DecoderModel#decode}.
     */
    public NDArray decode(NDArray inputIds, KvCache cache) {
        NDArray hidden = body.decode(inputIds, cache); // [B, 1, C]
        return logits(hidden.reshape(hidden.getShape().get(0), config.hiddenSize())); // [B, V]
    }

    /** The LM head: hidden [..., C] to logits [..., V]. */
    public NDArray logits(NDArray hidden) {
        if (lmHead != null) {
            return lmHead.forward(hidden);
        }
        return body.embedTokens().logits(hidden); // tied: the embedding is the head
    }

    /**
     * {@code log softmax(logits(hidden))[next]}: hidden [n, C] and next [n] (int64) give [n], with the
     * exact gradient with respect to {@code hidden} when recorded. A tied int8 head computes it a block
     * of the vocabulary at a time, never holding its fp32 weight [V, C] whole (see {@link
     * TokenEmbedding#logProbs}).
     */
    public NDArray logProbs(NDArray hidden, NDArray next) {
        if (lmHead != null) {
            return TokenEmbedding.pick(lmHead.forward(hidden), next);
        }
        return body.embedTokens().logProbs(hidden, next);
    }

    @Override
    public void close() {
        manager.close();
    }
}
