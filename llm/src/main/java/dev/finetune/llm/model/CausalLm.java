package dev.finetune.llm.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.checkpoint.Checkpoint;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * A decoder-only language model of the Llama family (llama, mistral, qwen2, qwen3), laid out as
 * HuggingFace's {@code *ForCausalLM}: the body {@code model} and the head {@code lm_head}, which is
 * the token embedding itself when {@code tie_word_embeddings} is set. A reward model is laid out as
 * {@code *ForSequenceClassification} with one label instead: the body and a {@code score} head [1, C]
 * (no bias) in place of the LM head, see {@link #scores}; a checkpoint holding {@code score.weight}
 * loads as one, and {@link #attachScoreHead} turns a language model into one.
 *
 * <p>The model owns an NDManager holding its weights. {@link #forward} creates its temporaries in
 * the caller's current NDScope (or the input's manager): callers run each step inside an NDScope
 * so that memory stays flat (see the inference package).
 *
 * <p>Dimension letters: B batch, T new tokens, S = cached + new tokens, C channels, V vocabulary.
 */
public final class CausalLm extends Module implements AutoCloseable {
    /** The sequence classifier's head: transformers' {@code score} of {@code *ForSequenceClassification}. */
    public static final String SCORE = "score";
    /** The system property that, set to {@code false}, makes every model decode op by op. */
    public static final String COMPILED_DECODING = "finetune.compiled-decoding";

    private ModelConfig config;
    private final NDManager manager;
    private final DecoderModel body;
    private Linear lmHead;
    private Linear score;
    private boolean gradientCheckpointing;
    private boolean compiledDecoding = !"false".equals(System.getProperty(COMPILED_DECODING));
    /** Made at the first decoding step that can use it. */
    private CompiledDecoding compiledStep;

    /** Builds the module tree with unset parameters; load or initialise weights next. */
    public CausalLm(ModelConfig config, Device device) {
        this(config, device, false);
    }

    /** With {@code scoreHead}: the one-label sequence classifier's layout (a reward model) instead. */
    private CausalLm(ModelConfig config, Device device, boolean scoreHead) {
        this.config = config;
        this.manager = NDManager.newBaseManager(device);
        this.body = child("model", new DecoderModel(config, manager));
        if (scoreHead) {
            this.score = child(SCORE, new Linear(config.hiddenSize(), 1, false));
        } else if (!config.tieWordEmbeddings()) {
            this.lmHead = child("lm_head", new Linear(config.hiddenSize(), config.vocabSize(), false));
        }
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
            CausalLm model = new CausalLm(checkpoint.config(), device, hasScoreHead(checkpoint));
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
        try (CausalLm skeleton = new CausalLm(checkpoint.config(), Device.cpu(), hasScoreHead(checkpoint))) {
            ModelWeights.verify(skeleton, checkpoint.tensors());
        }
    }

    /** A checkpoint of a sequence classifier (HF's {@code *ForSequenceClassification}) holds {@code score.weight}. */
    private static boolean hasScoreHead(Checkpoint checkpoint) {
        return checkpoint.tensors().names().contains(SCORE + ".weight");
    }

    /** Loads onto CUDA if the engine sees a GPU, else the CPU. */
    public static CausalLm load(Path directory) throws CheckpointException {
        return load(directory, preferredDevice());
    }

    public static Device preferredDevice() {
        return Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
    }

    /**
     * Replaces the LM head with a {@code score} head [1, C] drawn from normal(0, initializer_range) with
     * {@code seed} (transformers' {@code _init_weights} of a new Linear), making this a reward model as
     * {@code AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)} does. {@code
     * padTokenId} becomes the config's {@code pad_token_id}: the head reads each row's last token that is
     * not it, so it is part of the model.
     *
     * @throws IllegalStateException if the model already has a score head
     */
    public void attachScoreHead(long padTokenId, long seed) {
        if (score != null) {
            throw new IllegalStateException("the model already has a score head");
        }
        if (lmHead != null) {
            removeChild("lm_head");
            if (lmHead.weight().isSet()) {
                lmHead.weight().array().close(); // frees the [V, C] head now, not with the model
            }
            lmHead = null;
        }
        int hidden = config.hiddenSize();
        Random random = new Random(seed);
        float[] values = new float[hidden];
        for (int c = 0; c < hidden; c++) {
            values[c] = (float) (random.nextGaussian() * config.initializerRange());
        }
        score = child(SCORE, new Linear(hidden, 1, false));
        score.weight().set(manager.create(values, new Shape(1, hidden)));
        config = config.toBuilder().padTokenId((int) padTokenId).build();
    }

    /** Whether this is a reward model (a {@code score} head instead of the LM head). */
    public boolean hasScoreHead() {
        return score != null;
    }

    /**
     * The reward model's scores [B] of the final-normed hidden states [B, T, C] at each row's last real
     * token, {@code lastTokens} [B, T] float: one-hot at that token (see {@link
     * dev.finetune.llm.objective.LastTokens}). As transformers scores every position and then picks
     * that one; picking first computes the same number with one row per sequence.
     */
    public NDArray scores(NDArray hidden, NDArray lastTokens) {
        if (score == null) {
            throw new IllegalStateException("the model has no score head: it is a language model, not a reward model");
        }
        NDArray last = hidden.mul(lastTokens.expandDims(-1)).sum(new int[] {1}); // [B, T, C] -> [B, C]
        return score.forward(last).squeeze(-1); // [B, C] -> [B, 1] -> [B]
    }

    /**
     * Writes config.json for this model: the causal LM's, or the sequence classifier's when it has a
     * score head. {@code torchDtype} records how the weights are stored.
     */
    public void writeConfig(Path configFile, String torchDtype) throws IOException {
        if (score != null) {
            ModelConfigJson.writeSequenceClassification(config, torchDtype, configFile);
        } else {
            ModelConfigJson.write(config, torchDtype, configFile);
        }
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

    /**
     * Logits of the last new position only [B, V]: what generation needs, without the [B, T, V] head.
     * With a cache, the pass runs as one compiled engine call whenever {@link #decode} would.
     */
    public NDArray forwardLast(NDArray inputIds, NDArray paddingMask, KvCache cache) {
        if (cache != null && compilable()) {
            NDArray logits = compiled().prefill(body, lmHead, inputIds, paddingMask, cache);
            if (logits != null) {
                return logits.squeeze(1); // [B, 1, V] -> [B, V]
            }
        }
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
        if (compilable()) {
            NDArray logits = compiled().decode(body, lmHead, inputIds, cache);
            if (logits != null) {
                return logits;
            }
        }
        NDArray hidden = body.decode(inputIds, cache); // [B, 1, C]
        return logits(hidden.reshape(hidden.getShape().get(0), config.hiddenSize())); // [B, V]
    }

    /**
     * Whether {@link #decode} and {@link #extend} run as one compiled engine call ({@link CompiledDecoding}) when the
     * model's layers allow it, which they do unless a layer is quantised, fp16 or DoRA, or this is a
     * reward model. On by default; the system property {@value #COMPILED_DECODING}{@code =false} turns it
     * off for every model, this for one. Either way a step computes the same logits.
     */
    public void setCompiledDecoding(boolean enabled) {
        compiledDecoding = enabled;
    }

    /**
     * Whether compiled decoding steps of batches of {@value CompiledDecoding#MIN_PACKED_ROWS} rows or more
     * run their products on copies of the weights packed once for the batch's row count (MKL's packed
     * GEMM): faster, but holding a second copy of the product weights, and agreeing with the unpacked
     * step within float rounding rather than bit for bit. On by default for models whose product weights
     * are at most {@value CompiledDecoding#PACKED_PRODUCTS_MB} MiB (the system property {@value
     * CompiledDecoding#PACKED_PRODUCTS_MB_PROPERTY} sets another bound for every model, 0 none); this turns
     * it off for this model (and frees the copies), or on again with that bound.
     */
    public void setPackedProducts(boolean enabled) {
        compiled().setPackedBytesAllowed(enabled ? CompiledDecoding.packedBytesBound() : 0);
    }

    /**
     * The rows the compiled decoding step's products are packed for now ({@link #setPackedProducts}); 0
     * when none are packed.
     */
    public int packedRows() {
        return compiledStep == null ? 0 : compiledStep.packedRows();
    }

    /**
     * Whether the next {@link #decode} on this thread would run compiled: the layers as they are allow
     * it, and the thread records nothing for backward (libtorch records on a new thread until it is
     * prepared by {@link Engines}).
     */
    public boolean decodesCompiled() {
        return compilable() && compiled().covers(body, lmHead);
    }

    /** Turned on, a language model, and nothing recorded on this thread: the layers decide the rest. */
    private boolean compilable() {
        return compiledDecoding && score == null && !GradientMode.isRecording();
    }

    private CompiledDecoding compiled() {
        if (compiledStep == null) {
            compiledStep = new CompiledDecoding(config, manager);
        }
        return compiledStep;
    }

    /**
     * Logits [B, T, V] of T new tokens per row [B, T] after the tokens in {@code cache}, which supplies
     * each row's positions and padding. See {@link DecoderModel#extend}.
     */
    public NDArray extend(NDArray inputIds, KvCache cache) {
        if (compilable()) {
            NDArray logits = compiled().extend(body, lmHead, inputIds, cache);
            if (logits != null) {
                return logits;
            }
        }
        return logits(body.extend(inputIds, cache)); // [B, T, V]
    }

    /** The LM head: hidden [..., C] to logits [..., V]. */
    public NDArray logits(NDArray hidden) {
        if (score != null) {
            throw new IllegalStateException("a reward model (score head) has no LM head: use scores()");
        }
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

    /**
     * Logits {@link #logProbs} holds at once per row of hidden states: the vocabulary, or a block of it
     * for a tied int8 head ({@link TokenEmbedding#logProbColumns}).
     */
    public long logProbColumns() {
        return lmHead != null ? config.vocabSize() : body.embedTokens().logProbColumns();
    }

    @Override
    public void close() {
        if (compiledStep != null) {
            compiledStep.close();
        }
        manager.close();
    }
}
