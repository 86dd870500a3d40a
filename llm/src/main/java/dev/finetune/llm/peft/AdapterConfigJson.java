package dev.finetune.llm.peft;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.lora.LoraConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * PEFT's {@code adapter_config.json} for a LoRA adapter. Written with PEFT's keys, sorted, and laid
 * out as Python's {@code json.dumps(indent=2, sort_keys=True)} (what {@code save_pretrained} writes).
 * Read back strictly: every setting this code cannot honour (fan_in_fan_out, per-module ranks,
 * modules_to_save, ...) is an error naming the file and the key, never silently ignored.
 */
public final class AdapterConfigJson {
    public static final String FILE_NAME = "adapter_config.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectWriter PYTHON_STYLE =
            JSON.writer(new DefaultPrettyPrinter(Separators.createDefaultInstance()
                            .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                            .withObjectEmptySeparator("")
                            .withArrayEmptySeparator(""))
                    .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                    .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    /** LoraConfig's field names in its messages, by adapter_config.json key. */
    private static final Map<String, String> KEY_OF_FIELD = Map.of("alpha", "lora_alpha", "dropout", "lora_dropout");

    private AdapterConfigJson() {}

    /**
     * What an adapter_config.json says: the LoRA settings and the base model it was trained on; {@code
     * sequenceClassification} for a reward model's adapter (task_type SEQ_CLS, its {@code score} head in
     * modules_to_save), whose base is the causal LM with the head in place of lm_head.
     */
    public record AdapterConfig(LoraConfig lora, String baseModelNameOrPath, boolean sequenceClassification) {}

    /** PEFT's task_type of a reward model's adapter (transformers' sequence classifier). */
    public static final String SEQ_CLS = "SEQ_CLS";

    /**
     * The JSON text for {@code config}.
     *
     * @param targetModules the target_modules to record (PEFT records "all-linear" as the names it selected)
     * @param baseModelNameOrPath the base model's name or path, or null
     */
    public static String toJson(LoraConfig config, List<String> targetModules, String baseModelNameOrPath) {
        return toJson(config, targetModules, baseModelNameOrPath, false);
    }

    /**
     * The JSON text for {@code config}; with {@code sequenceClassification}, a reward model's adapter as
     * PEFT writes it for TRL's RewardTrainer: task_type SEQ_CLS and modules_to_save ["score"].
     */
    public static String toJson(
            LoraConfig config, List<String> targetModules, String baseModelNameOrPath, boolean sequenceClassification) {
        Map<String, Object> json = new TreeMap<>();
        json.put("alpha_pattern", Map.of());
        json.put("base_model_name_or_path", baseModelNameOrPath);
        json.put("bias", config.bias());
        json.put("fan_in_fan_out", false);
        json.put("inference_mode", true);
        json.put("init_lora_weights", true);
        json.put("layers_to_transform", null);
        json.put("lora_alpha", config.alphaAsWritten());
        json.put("lora_dropout", config.dropout());
        json.put("modules_to_save", sequenceClassification ? List.of("score") : null);
        json.put("peft_type", "LORA");
        json.put("r", config.r());
        json.put("rank_pattern", Map.of());
        json.put("target_modules", targetModules.stream().sorted().toList());
        json.put("task_type", sequenceClassification ? SEQ_CLS : "CAUSAL_LM");
        json.put("use_dora", config.useDora());
        json.put("use_rslora", config.useRslora());
        try {
            return PYTHON_STYLE.writeValueAsString(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of plain values cannot fail to serialise", e);
        }
    }

    public static void write(LoraConfig config, List<String> targetModules, String baseModelNameOrPath, Path file)
            throws IOException {
        write(config, targetModules, baseModelNameOrPath, false, file);
    }

    /** Writes {@link #toJson(LoraConfig, List, String, boolean)} to {@code file}, replacing it once complete. */
    public static void write(
            LoraConfig config,
            List<String> targetModules,
            String baseModelNameOrPath,
            boolean sequenceClassification,
            Path file)
            throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temporary, toJson(config, targetModules, baseModelNameOrPath, sequenceClassification));
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Reads an adapter_config.json; every problem names the file and the key. */
    public static AdapterConfig read(Path file) throws CheckpointException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot be read as JSON: " + e.getMessage(), e);
        }
        return read(root, file);
    }

    /** Reads an adapter_config.json's bytes (e.g. from an object store); problems name {@code source}. */
    public static AdapterConfig parse(byte[] json, Path source) throws CheckpointException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new CheckpointException(source, null, "cannot be read as JSON: " + e.getMessage(), e);
        }
        return read(root, source);
    }

    private static AdapterConfig read(JsonNode root, Path file) throws CheckpointException {
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, null, "is not a JSON object");
        }
        Fields fields = new Fields(file, root);
        fields.require("peft_type", "LORA", "only LoRA adapters are supported");
        boolean sequenceClassification = fields.isText("task_type", SEQ_CLS);
        if (sequenceClassification) {
            fields.requireScoreOnly();
        } else {
            fields.requireAbsentOr(
                    "task_type",
                    "CAUSAL_LM",
                    "only causal language model and reward model (SEQ_CLS) adapters are supported");
            fields.requireEmpty("modules_to_save", "fully trained extra modules are not supported");
        }
        fields.requireAbsentOr("fan_in_fan_out", false, "fan_in_fan_out (Conv1D weights) is not supported");
        fields.requireEmpty("layers_to_transform", "adapting only some layers is not supported");
        fields.requireEmpty("rank_pattern", "per-module ranks are not supported");
        fields.requireEmpty("alpha_pattern", "per-module alphas are not supported");
        try {
            LoraConfig config = LoraConfig.defaults()
                    .withR(fields.integer("r"))
                    .withAlpha(fields.number("lora_alpha"))
                    .withDropout(fields.number("lora_dropout", 0))
                    .withTargetModules(fields.targetModules())
                    .withUseRslora(fields.bool("use_rslora"))
                    .withUseDora(fields.bool("use_dora"))
                    .withBias(fields.text("bias", LoraConfig.BIAS_NONE));
            JsonNode base = root.get("base_model_name_or_path");
            return new AdapterConfig(
                    config, base == null || base.isNull() ? null : base.asText(), sequenceClassification);
        } catch (IllegalArgumentException e) {
            // LoraConfig names the field as "lora.<field>"; report the JSON key it came from.
            String field = e.getMessage().replaceFirst("^lora\\.(\\w+).*$", "$1");
            throw new CheckpointException(file, KEY_OF_FIELD.getOrDefault(field, field), e.getMessage(), e);
        }
    }

    /** Typed access to the keys of one file, failing with the file and the key. */
    private record Fields(Path file, JsonNode root) {
        void require(String key, Object expected, String problem) throws CheckpointException {
            JsonNode node = root.get(key);
            if (node == null || !matches(node, expected)) {
                throw new CheckpointException(file, key, problem + ", got " + node);
            }
        }

        void requireAbsentOr(String key, Object expected, String problem) throws CheckpointException {
            JsonNode node = root.get(key);
            if (node != null && !node.isNull() && !matches(node, expected)) {
                throw new CheckpointException(file, key, problem + ", got " + node);
            }
        }

        void requireEmpty(String key, String problem) throws CheckpointException {
            JsonNode node = root.get(key);
            if (node != null && !node.isNull() && !(node.isContainerNode() && node.isEmpty())) {
                throw new CheckpointException(file, key, problem + ", got " + node);
            }
        }

        boolean isText(String key, String value) {
            JsonNode node = root.get(key);
            return node != null && node.isTextual() && node.textValue().equals(value);
        }

        /** A SEQ_CLS adapter trains the score head whole, and nothing else. */
        void requireScoreOnly() throws CheckpointException {
            JsonNode node = root.get("modules_to_save");
            if (node == null
                    || !node.isArray()
                    || node.size() != 1
                    || !"score".equals(node.get(0).asText())) {
                throw new CheckpointException(
                        file,
                        "modules_to_save",
                        "must be [\"score\"] for task_type SEQ_CLS (a reward model's head), got " + node);
            }
        }

        private static boolean matches(JsonNode node, Object expected) {
            return expected instanceof Boolean b
                    ? node.isBoolean() && node.booleanValue() == b
                    : node.isTextual() && node.textValue().equals(expected);
        }

        int integer(String key) throws CheckpointException {
            JsonNode node = root.get(key);
            if (node == null || !node.isNumber() || node.doubleValue() != Math.rint(node.doubleValue())) {
                throw new CheckpointException(file, key, "must be an integer, got " + node);
            }
            return node.intValue();
        }

        double number(String key) throws CheckpointException {
            JsonNode node = root.get(key);
            if (node == null || !node.isNumber()) {
                throw new CheckpointException(file, key, "must be a number, got " + node);
            }
            return node.doubleValue();
        }

        double number(String key, double absent) throws CheckpointException {
            JsonNode node = root.get(key);
            if (node == null || node.isNull()) {
                return absent;
            }
            if (!node.isNumber()) {
                throw new CheckpointException(file, key, "must be a number, got " + node);
            }
            return node.doubleValue();
        }

        boolean bool(String key) throws CheckpointException {
            JsonNode node = root.get(key);
            if (node == null || node.isNull()) {
                return false;
            }
            if (!node.isBoolean()) {
                throw new CheckpointException(file, key, "must be true or false, got " + node);
            }
            return node.booleanValue();
        }

        String text(String key, String absent) throws CheckpointException {
            JsonNode node = root.get(key);
            if (node == null || node.isNull()) {
                return absent;
            }
            if (!node.isTextual()) {
                throw new CheckpointException(file, key, "must be a string, got " + node);
            }
            return node.textValue();
        }

        /** A list of names, or the string "all-linear" (other strings are PEFT regexes: unsupported). */
        List<String> targetModules() throws CheckpointException {
            JsonNode node = root.get("target_modules");
            if (node != null && node.isTextual() && node.textValue().equals(LoraConfig.ALL_LINEAR)) {
                return List.of(LoraConfig.ALL_LINEAR);
            }
            if (node == null || !node.isArray() || node.isEmpty()) {
                throw new CheckpointException(
                        file,
                        "target_modules",
                        "must be a non-empty list of module names or \"all-linear\" (regular expressions are not"
                                + " supported), got " + node);
            }
            List<String> names = new ArrayList<>();
            for (JsonNode name : node) {
                if (!name.isTextual()) {
                    throw new CheckpointException(file, "target_modules", "entries must be strings, got " + name);
                }
                names.add(name.textValue());
            }
            return names;
        }
    }
}
