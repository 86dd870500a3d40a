package dev.finetune.llm.checkpoint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Everything the model blocks need from a HuggingFace config.json, with the family-specific rules
 * already applied (qwen2 always has q/k/v biases, qwen3 always normalises q and k per head, ...).
 * Read one with {@link ModelConfigJson#read}; build one with {@link #builder}.
 *
 * @param headDim size of one attention head; may differ from hiddenSize / numAttentionHeads
 * @param qkvBias whether q_proj, k_proj and v_proj have a bias
 * @param outputBias whether o_proj has a bias
 * @param mlpBias whether gate_proj, up_proj and down_proj have a bias
 * @param qkNorm qwen3: RMSNorm over each head of q and k before rotary embedding
 * @param slidingWindow attention window of sliding layers, 0 if there are none
 * @param slidingLayers per layer: whether it uses the sliding window
 */
public record ModelConfig(
        ModelType modelType,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        RopeConfig rope,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        boolean qkNorm,
        int slidingWindow,
        List<Boolean> slidingLayers,
        double initializerRange,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        Integer padTokenId) {

    /** Prefer {@link #builder}: it applies the family rules and validates every value. */
    public ModelConfig {
        slidingLayers = List.copyOf(slidingLayers);
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** Query heads that share one key/value head. */
    public int numKeyValueGroups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** The attention window of a layer, or 0 for full causal attention. */
    public int slidingWindowOf(int layer) {
        return slidingLayers.get(layer) ? slidingWindow : 0;
    }

    /** A config field whose value is not allowed; {@link #field()} is its config.json key. */
    public static final class InvalidField extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final String field;

        public InvalidField(String field, String problem) {
            super(field + ": " + problem);
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    public static Builder builder(ModelType type) {
        return new Builder(type);
    }

    /** A builder starting from HuggingFace's defaults for the family. */
    public Builder toBuilder() {
        Builder b = new Builder(modelType);
        b.vocabSize = vocabSize;
        b.hiddenSize = hiddenSize;
        b.intermediateSize = intermediateSize;
        b.numHiddenLayers = numHiddenLayers;
        b.numAttentionHeads = numAttentionHeads;
        b.numKeyValueHeads = numKeyValueHeads;
        b.headDim = headDim;
        b.rmsNormEps = rmsNormEps;
        b.rope = rope;
        b.maxPositionEmbeddings = maxPositionEmbeddings;
        b.tieWordEmbeddings = tieWordEmbeddings;
        b.qkvBias = qkvBias;
        b.outputBias = outputBias;
        b.mlpBias = mlpBias;
        // "every layer" stays "every layer" if the layer count is changed on the builder
        b.slidingWindow = slidingWindow;
        b.slidingLayers = slidingLayers.contains(false) ? new ArrayList<>(slidingLayers) : null;
        b.initializerRange = initializerRange;
        b.bosTokenId = bosTokenId;
        b.eosTokenIds = new ArrayList<>(eosTokenIds);
        b.padTokenId = padTokenId;
        return b;
    }

    /** Fields start at HuggingFace's defaults for the family; sizes must be set. */
    public static final class Builder {
        private final ModelType type;
        private int vocabSize;
        private int hiddenSize;
        private int intermediateSize;
        private int numHiddenLayers;
        private int numAttentionHeads;
        private int numKeyValueHeads; // 0: same as numAttentionHeads
        private int headDim; // 0: hiddenSize / numAttentionHeads
        private double rmsNormEps = 1e-6;
        private RopeConfig rope = RopeConfig.plain(10000.0);
        private int maxPositionEmbeddings;
        private boolean tieWordEmbeddings;
        private boolean qkvBias;
        private boolean outputBias;
        private boolean mlpBias;
        private int slidingWindow;
        private List<Boolean> slidingLayers; // null: every layer slides if slidingWindow > 0
        private double initializerRange = 0.02;
        private Integer bosTokenId;
        private List<Integer> eosTokenIds = new ArrayList<>();
        private Integer padTokenId;

        private Builder(ModelType type) {
            this.type = type;
            this.maxPositionEmbeddings = type.defaultMaxPositionEmbeddings();
            this.qkvBias = type == ModelType.QWEN2; // qwen2's q/k/v projections always have biases
        }

        public Builder vocabSize(int v) {
            vocabSize = v;
            return this;
        }

        public Builder hiddenSize(int v) {
            hiddenSize = v;
            return this;
        }

        public Builder intermediateSize(int v) {
            intermediateSize = v;
            return this;
        }

        public Builder numHiddenLayers(int v) {
            numHiddenLayers = v;
            return this;
        }

        public Builder numAttentionHeads(int v) {
            numAttentionHeads = v;
            return this;
        }

        public Builder numKeyValueHeads(int v) {
            numKeyValueHeads = v;
            return this;
        }

        public Builder headDim(int v) {
            headDim = v;
            return this;
        }

        public Builder rmsNormEps(double v) {
            rmsNormEps = v;
            return this;
        }

        public Builder rope(RopeConfig v) {
            rope = v;
            return this;
        }

        public Builder maxPositionEmbeddings(int v) {
            maxPositionEmbeddings = v;
            return this;
        }

        public Builder tieWordEmbeddings(boolean v) {
            tieWordEmbeddings = v;
            return this;
        }

        public Builder initializerRange(double v) {
            initializerRange = v;
            return this;
        }

        public Builder bosTokenId(Integer v) {
            bosTokenId = v;
            return this;
        }

        public Builder eosTokenIds(List<Integer> v) {
            eosTokenIds = new ArrayList<>(v);
            return this;
        }

        public Builder padTokenId(Integer v) {
            padTokenId = v;
            return this;
        }

        /** llama/qwen3 {@code attention_bias}: biases on q, k, v and o projections. */
        public Builder attentionBias(boolean v) {
            if (type == ModelType.LLAMA || type == ModelType.QWEN3) {
                qkvBias = v;
                outputBias = v;
            }
            return this;
        }

        /** llama {@code mlp_bias}. */
        public Builder mlpBias(boolean v) {
            if (type == ModelType.LLAMA) {
                mlpBias = v;
            }
            return this;
        }

        /** Every layer attends to at most {@code window} previous positions (mistral). */
        public Builder slidingWindowAllLayers(int window) {
            return slidingWindow(window, null);
        }

        /** The layers flagged true attend to at most {@code window} positions; null flags mean all. */
        public Builder slidingWindow(int window, List<Boolean> layers) {
            slidingWindow = window;
            slidingLayers = layers == null ? null : new ArrayList<>(layers);
            return this;
        }

        public ModelConfig build() {
            int kvHeads = numKeyValueHeads == 0 ? numAttentionHeads : numKeyValueHeads;
            int dim = headDim;
            if (dim == 0) {
                if (numAttentionHeads <= 0 || hiddenSize % numAttentionHeads != 0) {
                    throw new InvalidField(
                            "hidden_size",
                            hiddenSize + " is not divisible by num_attention_heads " + numAttentionHeads
                                    + " and no head_dim is given");
                }
                dim = hiddenSize / numAttentionHeads;
            }
            List<Boolean> layers = slidingLayers;
            if (slidingWindow == 0) {
                layers = Collections.nCopies(Math.max(numHiddenLayers, 0), false);
            } else if (layers == null) {
                layers = Collections.nCopies(Math.max(numHiddenLayers, 0), true);
            }
            ModelConfig config = new ModelConfig(
                    type,
                    vocabSize,
                    hiddenSize,
                    intermediateSize,
                    numHiddenLayers,
                    numAttentionHeads,
                    kvHeads,
                    dim,
                    rmsNormEps,
                    rope,
                    maxPositionEmbeddings,
                    tieWordEmbeddings,
                    qkvBias,
                    outputBias,
                    mlpBias,
                    type == ModelType.QWEN3,
                    layers.contains(true) ? slidingWindow : 0,
                    layers,
                    initializerRange,
                    bosTokenId,
                    eosTokenIds,
                    padTokenId);
            validate(config);
            return config;
        }
    }

    private static void validate(ModelConfig c) {
        positive("vocab_size", c.vocabSize);
        positive("hidden_size", c.hiddenSize);
        positive("intermediate_size", c.intermediateSize);
        positive("num_hidden_layers", c.numHiddenLayers);
        positive("num_attention_heads", c.numAttentionHeads);
        positive("num_key_value_heads", c.numKeyValueHeads);
        positive("head_dim", c.headDim);
        if (c.numAttentionHeads % c.numKeyValueHeads != 0) {
            throw new InvalidField(
                    "num_key_value_heads",
                    c.numKeyValueHeads + " does not divide num_attention_heads " + c.numAttentionHeads);
        }
        if (c.headDim % 2 != 0) {
            throw new InvalidField("head_dim", "must be even for rotary embedding, got " + c.headDim);
        }
        if (!(c.rmsNormEps > 0)) {
            throw new InvalidField("rms_norm_eps", "must be positive, got " + c.rmsNormEps);
        }
        RopeConfig rope = c.rope;
        if (rope == null || !(rope.theta() > 0)) {
            throw new InvalidField("rope_theta", "must be positive, got " + (rope == null ? null : rope.theta()));
        }
        switch (rope.type()) {
            case RopeConfig.DEFAULT -> {}
            case RopeConfig.LINEAR -> requirePositive("rope_scaling.factor", rope.factor());
            case RopeConfig.LLAMA3 -> {
                requirePositive("rope_scaling.factor", rope.factor());
                requirePositive("rope_scaling.low_freq_factor", rope.lowFreqFactor());
                if (!(rope.highFreqFactor() > rope.lowFreqFactor())) {
                    throw new InvalidField(
                            "rope_scaling.high_freq_factor",
                            "must exceed low_freq_factor " + rope.lowFreqFactor() + ", got " + rope.highFreqFactor());
                }
                positive("rope_scaling.original_max_position_embeddings", rope.originalMaxPositionEmbeddings());
            }
            default -> throw new InvalidField(
                    "rope_scaling.rope_type",
                    "unsupported value '" + rope.type() + "' (supported: default, linear, llama3)");
        }
        if (c.slidingLayers.size() != c.numHiddenLayers) {
            throw new InvalidField(
                    "layer_types", c.slidingLayers.size() + " entries for " + c.numHiddenLayers + " layers");
        }
        if (c.slidingLayers.contains(true)) {
            positive("sliding_window", c.slidingWindow);
        }
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new InvalidField(field, "must be a positive integer, got " + value);
        }
    }

    private static void requirePositive(String field, double value) {
        if (!(value > 0)) {
            throw new InvalidField(field, "must be positive, got " + value);
        }
    }
}
