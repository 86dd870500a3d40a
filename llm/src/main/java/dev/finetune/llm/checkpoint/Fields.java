package dev.finetune.llm.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed access to the fields of a config.json object. Every error names the file and the field
 * (with its parent's key for nested objects, e.g. {@code rope_scaling.factor}).
 */
final class Fields {
    private final JsonNode node;
    private final Path file;
    private final String prefix;

    Fields(JsonNode node, Path file) {
        this(node, file, "");
    }

    private Fields(JsonNode node, Path file, String prefix) {
        this.node = node;
        this.file = file;
        this.prefix = prefix;
    }

    CheckpointException error(String field, String problem) {
        return new CheckpointException(file, prefix + field, problem);
    }

    /** The key exists, possibly with a null value. */
    boolean has(String field) {
        return node.has(field);
    }

    /** The key exists with a non-null value. */
    boolean present(String field) {
        JsonNode value = node.get(field);
        return value != null && !value.isNull();
    }

    Fields object(String field) throws CheckpointException {
        JsonNode value = node.get(field);
        if (!value.isObject()) {
            throw error(field, "must be an object, got " + value);
        }
        return new Fields(value, file, prefix + field + ".");
    }

    String requiredText(String field) throws CheckpointException {
        if (!present(field)) {
            throw error(field, "is required");
        }
        return text(field);
    }

    String optionalText(String field, String fallback) throws CheckpointException {
        return present(field) ? text(field) : fallback;
    }

    private String text(String field) throws CheckpointException {
        JsonNode value = node.get(field);
        if (!value.isTextual()) {
            throw error(field, "must be a string, got " + value);
        }
        return value.asText();
    }

    int requiredInt(String field) throws CheckpointException {
        if (!present(field)) {
            throw error(field, "is required");
        }
        return integer(field);
    }

    int optionalInt(String field, int fallback) throws CheckpointException {
        return present(field) ? integer(field) : fallback;
    }

    private int integer(String field) throws CheckpointException {
        JsonNode value = node.get(field);
        // Some configs write integral values as 4096.0; accept those, reject 0.5 and strings.
        if (!value.isNumber() || value.asDouble() != Math.rint(value.asDouble()) || !value.canConvertToInt()) {
            throw error(field, "must be an integer, got " + value);
        }
        return value.asInt();
    }

    double requiredDouble(String field) throws CheckpointException {
        if (!present(field)) {
            throw error(field, "is required");
        }
        return optionalDouble(field, 0);
    }

    double optionalDouble(String field, double fallback) throws CheckpointException {
        if (!present(field)) {
            return fallback;
        }
        JsonNode value = node.get(field);
        if (!value.isNumber()) {
            throw error(field, "must be a number, got " + value);
        }
        return value.asDouble();
    }

    boolean optionalBoolean(String field, boolean fallback) throws CheckpointException {
        if (!present(field)) {
            return fallback;
        }
        JsonNode value = node.get(field);
        if (!value.isBoolean()) {
            throw error(field, "must be true or false, got " + value);
        }
        return value.asBoolean();
    }

    Integer optionalTokenId(String field) throws CheckpointException {
        return present(field) ? integer(field) : null;
    }

    /** A token id or a list of them ({@code eos_token_id} is either). */
    List<Integer> tokenIds(String field) throws CheckpointException {
        List<Integer> ids = new ArrayList<>();
        if (!present(field)) {
            return ids;
        }
        JsonNode value = node.get(field);
        if (value.isArray()) {
            for (JsonNode element : value) {
                if (!element.canConvertToInt() || !element.isIntegralNumber()) {
                    throw error(field, "must hold integers, got " + value);
                }
                ids.add(element.asInt());
            }
        } else {
            ids.add(integer(field));
        }
        return ids;
    }

    List<String> textList(String field) throws CheckpointException {
        JsonNode value = node.get(field);
        if (!value.isArray()) {
            throw error(field, "must be an array of strings, got " + value);
        }
        List<String> texts = new ArrayList<>();
        for (JsonNode element : value) {
            if (!element.isTextual()) {
                throw error(field, "must be an array of strings, got " + value);
            }
            texts.add(element.asText());
        }
        return texts;
    }
}
