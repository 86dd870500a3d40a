package dev.finetune.llm.checkpoint;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** The HuggingFace {@code model_type}s this module can load, with their architecture class names. */
public enum ModelType {
    LLAMA("llama", "LlamaForCausalLM", 2048),
    MISTRAL("mistral", "MistralForCausalLM", 4096 * 32),
    QWEN2("qwen2", "Qwen2ForCausalLM", 32768),
    QWEN3("qwen3", "Qwen3ForCausalLM", 32768);

    private final String hfName;
    private final String architecture;
    private final int defaultMaxPositionEmbeddings;

    ModelType(String hfName, String architecture, int defaultMaxPositionEmbeddings) {
        this.hfName = hfName;
        this.architecture = architecture;
        this.defaultMaxPositionEmbeddings = defaultMaxPositionEmbeddings;
    }

    /** The value of {@code model_type} in config.json. */
    public String hfName() {
        return hfName;
    }

    /** The architecture of the family's one-label sequence classifier (a reward model): {@code Qwen3ForSequenceClassification}. */
    public String sequenceClassificationArchitecture() {
        return architecture.replace("ForCausalLM", "ForSequenceClassification");
    }

    /** The value of {@code architectures[0]} in config.json. */
    public String architecture() {
        return architecture;
    }

    /** HuggingFace's default when config.json has no {@code max_position_embeddings}. */
    int defaultMaxPositionEmbeddings() {
        return defaultMaxPositionEmbeddings;
    }

    public static Optional<ModelType> fromHfName(String name) {
        return Arrays.stream(values()).filter(t -> t.hfName.equals(name)).findFirst();
    }

    public static String supportedNames() {
        return Arrays.stream(values()).map(ModelType::hfName).collect(Collectors.joining(", "));
    }
}
