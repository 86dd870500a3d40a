package dev.finetune.llm.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes HuggingFace config.json for the supported families. Absent fields take
 * HuggingFace's defaults for the family; a field whose value this code cannot honour (an unknown
 * {@code model_type}, {@code hidden_act} other than silu, an unsupported rope scaling, a quantized
 * checkpoint) is rejected with a {@link CheckpointException} naming the file and the field.
 * Fields that do not change the computation ({@code torch_dtype}, {@code use_cache},
 * {@code attention_dropout}, {@code pretraining_tp}, ...) are ignored.
 */
public final class ModelConfigJson {
    public static final String FILE_NAME = "config.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ModelConfigJson() {}

    public static ModelConfig read(Path configFile) throws CheckpointException {
        String text;
        try {
            text = Files.readString(configFile);
        } catch (IOException e) {
            throw new CheckpointException(configFile, null, "cannot be read: " + e, e);
        }
        return parse(text, configFile);
    }

    /** Parses config.json text; {@code source} is only used to name the file in errors. */
    public static ModelConfig parse(String json, Path source) throws CheckpointException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(source, null, "is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(source, null, "is not a JSON object");
        }
        Fields f = new Fields(root, source);
        try {
            return parse(f);
        } catch (ModelConfig.InvalidField e) {
            throw new CheckpointException(
                    source, e.field(), e.getMessage().substring(e.field().length() + 2), e);
        }
    }

    private static ModelConfig parse(Fields f) throws CheckpointException {
        String typeName = f.requiredText("model_type");
        ModelType type = ModelType.fromHfName(typeName)
                .orElseThrow(() -> f.error(
                        "model_type",
                        "unsupported value '" + typeName + "' (supported: " + ModelType.supportedNames() + ")"));
        String activation = f.optionalText("hidden_act", "silu");
        if (!activation.equals("silu")) {
            throw f.error("hidden_act", "unsupported value '" + activation + "' (supported: silu)");
        }
        if (f.present("quantization_config")) {
            throw f.error("quantization_config", "quantized checkpoints are not supported");
        }
        int hidden = f.requiredInt("hidden_size");
        int heads = f.requiredInt("num_attention_heads");
        int layers = f.requiredInt("num_hidden_layers");
        int maxPositions = f.optionalInt("max_position_embeddings", type.defaultMaxPositionEmbeddings());
        ModelConfig.Builder b = ModelConfig.builder(type)
                .vocabSize(f.requiredInt("vocab_size"))
                .hiddenSize(hidden)
                .intermediateSize(f.requiredInt("intermediate_size"))
                .numHiddenLayers(layers)
                .numAttentionHeads(heads)
                .numKeyValueHeads(f.optionalInt("num_key_value_heads", heads))
                .headDim(f.optionalInt("head_dim", type == ModelType.QWEN3 && !f.has("head_dim") ? 128 : 0))
                .rmsNormEps(f.optionalDouble("rms_norm_eps", 1e-6))
                .maxPositionEmbeddings(maxPositions)
                .tieWordEmbeddings(f.optionalBoolean("tie_word_embeddings", false))
                .attentionBias(f.optionalBoolean("attention_bias", false))
                .mlpBias(f.optionalBoolean("mlp_bias", false))
                .initializerRange(f.optionalDouble("initializer_range", 0.02))
                .bosTokenId(f.optionalTokenId("bos_token_id"))
                .eosTokenIds(f.tokenIds("eos_token_id"))
                .padTokenId(f.optionalTokenId("pad_token_id"))
                .rope(rope(f, maxPositions));
        slidingWindow(f, type, layers, b);
        return b.build();
    }

    /** rope_theta plus rope_scaling (transformers v4) or rope_parameters (v5). */
    private static RopeConfig rope(Fields f, int maxPositions) throws CheckpointException {
        String key = f.present("rope_parameters") ? "rope_parameters" : "rope_scaling";
        Fields scaling = f.present(key) ? f.object(key) : null;
        double theta = scaling != null && scaling.present("rope_theta")
                ? scaling.optionalDouble("rope_theta", 10000.0)
                : f.optionalDouble("rope_theta", 10000.0);
        if (scaling == null) {
            return RopeConfig.plain(theta);
        }
        String ropeType = scaling.present("rope_type")
                ? scaling.requiredText("rope_type")
                : scaling.optionalText("type", RopeConfig.DEFAULT);
        return switch (ropeType) {
            case RopeConfig.DEFAULT -> RopeConfig.plain(theta);
            case RopeConfig.LINEAR -> RopeConfig.linear(theta, scaling.requiredDouble("factor"));
            case RopeConfig.LLAMA3 -> RopeConfig.llama3(
                    theta,
                    scaling.requiredDouble("factor"),
                    scaling.requiredDouble("low_freq_factor"),
                    scaling.requiredDouble("high_freq_factor"),
                    scaling.optionalInt("original_max_position_embeddings", maxPositions));
            default -> throw f.error(
                    key + ".rope_type", "unsupported value '" + ropeType + "' (supported: default, linear, llama3)");
        };
    }

    private static void slidingWindow(Fields f, ModelType type, int layers, ModelConfig.Builder b)
            throws CheckpointException {
        switch (type) {
            case LLAMA -> {}
            case MISTRAL -> {
                // MistralConfig defaults sliding_window to 4096; an explicit null turns it off.
                int window = f.has("sliding_window") ? f.optionalInt("sliding_window", 0) : 4096;
                b.slidingWindowAllLayers(window);
            }
            case QWEN2, QWEN3 -> {
                if (!f.optionalBoolean("use_sliding_window", false)) {
                    return;
                }
                int window = f.optionalInt("sliding_window", 4096);
                List<Boolean> sliding = new ArrayList<>();
                if (f.present("layer_types")) {
                    for (String layerType : f.textList("layer_types")) {
                        switch (layerType) {
                            case "full_attention" -> sliding.add(false);
                            case "sliding_attention" -> sliding.add(true);
                            default -> throw f.error("layer_types", "unsupported value '" + layerType + "'");
                        }
                    }
                } else {
                    int firstSliding = f.optionalInt("max_window_layers", 28);
                    for (int i = 0; i < layers; i++) {
                        sliding.add(i >= firstSliding);
                    }
                }
                b.slidingWindow(window, sliding);
            }
        }
    }

    /**
     * Writes config.json in HuggingFace's layout, replacing an existing file only once the new one
     * is complete. {@code torchDtype} ("float32", "bfloat16", ...) records how the weights are stored.
     */
    public static void write(ModelConfig config, String torchDtype, Path configFile) throws IOException {
        Path temporary = configFile.resolveSibling(configFile.getFileName() + ".tmp");
        JSON.writeValue(temporary.toFile(), toJson(config, torchDtype));
        Files.move(temporary, configFile, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * As {@link #write}, for the model as HuggingFace's {@code <Arch>ForSequenceClassification} with one
     * label (a reward model): the architecture, and {@code id2label} / {@code label2id} as transformers
     * writes them for {@code num_labels=1} (it stores no {@code num_labels}; the label maps imply it).
     */
    public static void writeSequenceClassification(ModelConfig config, String torchDtype, Path configFile)
            throws IOException {
        Path temporary = configFile.resolveSibling(configFile.getFileName() + ".tmp");
        JSON.writeValue(temporary.toFile(), toSequenceClassificationJson(config, torchDtype));
        Files.move(temporary, configFile, StandardCopyOption.REPLACE_EXISTING);
    }

    /** config.json content of the one-label sequence classifier: see {@link #writeSequenceClassification}. */
    public static ObjectNode toSequenceClassificationJson(ModelConfig c, String torchDtype) {
        ObjectNode o = toJson(c, torchDtype);
        o.putArray("architectures").add(c.modelType().sequenceClassificationArchitecture());
        o.putObject("id2label").put("0", "LABEL_0");
        o.putObject("label2id").put("LABEL_0", 0);
        return o;
    }

    /** config.json content; {@code torchDtype} records the dtype the weights are stored in. */
    public static ObjectNode toJson(ModelConfig c, String torchDtype) {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add(c.modelType().architecture());
        o.put("model_type", c.modelType().hfName());
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.hiddenSize());
        o.put("intermediate_size", c.intermediateSize());
        o.put("num_hidden_layers", c.numHiddenLayers());
        o.put("num_attention_heads", c.numAttentionHeads());
        o.put("num_key_value_heads", c.numKeyValueHeads());
        o.put("head_dim", c.headDim());
        o.put("hidden_act", "silu");
        o.put("max_position_embeddings", c.maxPositionEmbeddings());
        o.put("rms_norm_eps", c.rmsNormEps());
        o.put("rope_theta", c.rope().theta());
        RopeConfig rope = c.rope();
        if (rope.type().equals(RopeConfig.DEFAULT)) {
            o.putNull("rope_scaling");
        } else {
            ObjectNode scaling = o.putObject("rope_scaling");
            scaling.put("rope_type", rope.type());
            scaling.put("factor", rope.factor());
            if (rope.type().equals(RopeConfig.LLAMA3)) {
                scaling.put("low_freq_factor", rope.lowFreqFactor());
                scaling.put("high_freq_factor", rope.highFreqFactor());
                scaling.put("original_max_position_embeddings", rope.originalMaxPositionEmbeddings());
            }
        }
        o.put("tie_word_embeddings", c.tieWordEmbeddings());
        switch (c.modelType()) {
            case LLAMA -> {
                o.put("attention_bias", c.qkvBias());
                o.put("mlp_bias", c.mlpBias());
            }
            case QWEN3 -> o.put("attention_bias", c.qkvBias());
            default -> {}
        }
        slidingWindowJson(c, o);
        o.put("initializer_range", c.initializerRange());
        putTokenId(o, "bos_token_id", c.bosTokenId());
        if (c.eosTokenIds().size() == 1) {
            o.put("eos_token_id", c.eosTokenIds().get(0));
        } else if (!c.eosTokenIds().isEmpty()) {
            ArrayNode eos = o.putArray("eos_token_id");
            c.eosTokenIds().forEach(eos::add);
        }
        putTokenId(o, "pad_token_id", c.padTokenId());
        o.put("torch_dtype", torchDtype);
        return o;
    }

    private static void slidingWindowJson(ModelConfig c, ObjectNode o) {
        switch (c.modelType()) {
            case MISTRAL -> {
                if (c.slidingWindow() == 0) {
                    o.putNull("sliding_window");
                } else {
                    o.put("sliding_window", c.slidingWindow());
                }
            }
            case QWEN2, QWEN3 -> {
                boolean any = c.slidingLayers().contains(true);
                o.put("use_sliding_window", any);
                o.put("sliding_window", any ? c.slidingWindow() : 4096);
                int firstSliding = any ? c.slidingLayers().indexOf(true) : c.numHiddenLayers();
                o.put("max_window_layers", firstSliding);
                ArrayNode types = o.putArray("layer_types");
                c.slidingLayers().forEach(s -> types.add(s ? "sliding_attention" : "full_attention"));
            }
            default -> {}
        }
    }

    private static void putTokenId(ObjectNode o, String key, Integer id) {
        if (id == null) {
            o.putNull(key);
        } else {
            o.put(key, id);
        }
    }
}
