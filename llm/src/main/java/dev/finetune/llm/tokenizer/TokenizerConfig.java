package dev.finetune.llm.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parts of a model directory's tokenizer_config.json (and chat_template.jinja,
 * chat_template.json, generation_config.json) that the loader uses.
 *
 * @param specialTokenText the set special tokens by transformers attribute name ({@code bos_token},
 *     {@code eos_token}, ...) as text; AddedToken objects are reduced to their {@code content}
 * @param additionalSpecialTokens {@code additional_special_tokens} as text
 * @param addedTokensDecoder {@code added_tokens_decoder}: id to content
 * @param addedSpecialIds ids that {@code added_tokens_decoder} marks special
 * @param chatTemplate the default chat template, if the model has one
 * @param generationEosIds generation_config.json's {@code eos_token_id}, if that file exists
 * @param cleanUpTokenizationSpaces transformers' {@code clean_up_tokenization_spaces} (default false)
 */
record TokenizerConfig(
        Map<String, String> specialTokenText,
        List<String> additionalSpecialTokens,
        Map<Integer, String> addedTokensDecoder,
        List<Integer> addedSpecialIds,
        Optional<TemplateSource> chatTemplate,
        Optional<List<Integer>> generationEosIds,
        boolean cleanUpTokenizationSpaces) {
    static final String FILE = "tokenizer_config.json";
    static final List<String> SPECIAL_TOKEN_NAMES =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A chat template and where it was read: the file, and the field within it (null for a .jinja file). */
    record TemplateSource(String template, Path file, String field) {
        String describe() {
            return field == null ? file.toString() : file + ": " + field;
        }
    }

    static TokenizerConfig read(Path modelDir) throws TokenizerException {
        Path file = modelDir.resolve(FILE);
        JsonNode config = readJson(file);
        if (!config.isObject()) {
            throw new TokenizerException(file, null, "must be a JSON object");
        }
        Map<String, String> special = new LinkedHashMap<>();
        for (String name : SPECIAL_TOKEN_NAMES) {
            tokenText(file, name, config.get(name)).filter(s -> !s.isEmpty()).ifPresent(s -> special.put(name, s));
        }
        List<String> additional = new ArrayList<>();
        JsonNode extra = config.path("additional_special_tokens");
        for (int i = 0; i < extra.size(); i++) {
            tokenText(file, "additional_special_tokens[" + i + "]", extra.get(i))
                    .ifPresent(additional::add);
        }
        Map<Integer, String> decoder = new HashMap<>();
        List<Integer> specialIds = new ArrayList<>();
        for (Map.Entry<String, JsonNode> entry :
                config.path("added_tokens_decoder").properties()) {
            String field = "added_tokens_decoder." + entry.getKey();
            int id;
            try {
                id = Integer.parseInt(entry.getKey());
            } catch (NumberFormatException e) {
                throw new TokenizerException(file, field, "key must be a token id");
            }
            String content = tokenText(file, field, entry.getValue())
                    .orElseThrow(() -> new TokenizerException(file, field, "has no content"));
            decoder.put(id, content);
            if (entry.getValue().path("special").asBoolean(false)) {
                specialIds.add(id);
            }
        }
        return new TokenizerConfig(
                special,
                additional,
                decoder,
                specialIds,
                chatTemplate(modelDir, file, config),
                generationEosIds(modelDir.resolve("generation_config.json")),
                config.path("clean_up_tokenization_spaces").asBoolean(false));
    }

    /** A token field: a string, an AddedToken object {"content": ...}, or null. */
    private static Optional<String> tokenText(Path file, String field, JsonNode value) throws TokenizerException {
        if (value == null || value.isNull()) {
            return Optional.empty();
        } else if (value.isTextual()) {
            return Optional.of(value.asText());
        } else if (value.isObject() && value.path("content").isTextual()) {
            return Optional.of(value.get("content").asText());
        }
        throw new TokenizerException(
                file,
                field,
                "must be a string or an object with a string 'content', got " + value.getNodeType() + " " + value);
    }

    /**
     * The default chat template with its source: chat_template.jinja wins (what transformers
     * saves since 4.43), then chat_template.json, then tokenizer_config.json's chat_template, which
     * is a string or a list of {"name", "template"} of which "default" is used.
     */
    private static Optional<TemplateSource> chatTemplate(Path modelDir, Path configFile, JsonNode config)
            throws TokenizerException {
        Path jinja = modelDir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                return Optional.of(new TemplateSource(Files.readString(jinja, StandardCharsets.UTF_8), jinja, null));
            } catch (IOException e) {
                throw new TokenizerException(jinja, null, "cannot be read: " + e.getMessage(), e);
            }
        }
        Path json = modelDir.resolve("chat_template.json");
        if (Files.isRegularFile(json)) {
            return templateField(json, readJson(json).get("chat_template"));
        }
        return templateField(configFile, config.get("chat_template"));
    }

    private static Optional<TemplateSource> templateField(Path file, JsonNode value) throws TokenizerException {
        if (value == null || value.isNull()) {
            return Optional.empty();
        } else if (value.isTextual()) {
            return Optional.of(new TemplateSource(value.asText(), file, "chat_template"));
        } else if (value.isArray()) {
            for (JsonNode named : value) {
                if (named.path("name").asText("").equals("default")
                        && named.path("template").isTextual()) {
                    return Optional.of(
                            new TemplateSource(named.get("template").asText(), file, "chat_template[default]"));
                }
            }
            throw new TokenizerException(
                    file, "chat_template", "is a list of named templates without one named 'default'");
        }
        throw new TokenizerException(
                file, "chat_template", "must be a string or a list of named templates, got " + value.getNodeType());
    }

    private static Optional<List<Integer>> generationEosIds(Path file) throws TokenizerException {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        JsonNode value = readJson(file).get("eos_token_id");
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        List<Integer> ids = new ArrayList<>();
        for (JsonNode id : value.isArray() ? value : List.of(value)) {
            if (!id.canConvertToInt() || !id.isIntegralNumber()) {
                throw new TokenizerException(
                        file, "eos_token_id", "must be a token id or a list of token ids, got " + value);
            }
            ids.add(id.asInt());
        }
        return Optional.of(ids);
    }

    static JsonNode readJson(Path file) throws TokenizerException {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(file, null, "missing");
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new TokenizerException(
                    file,
                    null,
                    "invalid JSON at line " + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage(),
                    e);
        } catch (IOException e) {
            throw new TokenizerException(file, null, "cannot be read: " + e.getMessage(), e);
        }
    }
}
