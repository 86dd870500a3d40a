package dev.finetune.dataset.format;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.dataset.validation.InvalidLineException;
import dev.finetune.dataset.validation.LineError;

/**
 * A pre-tokenized example: the token ids as they are trained, and which positions the loss counts.
 * Read from HuggingFace's {@code labels} (-100 where not trained, else the id at that position,
 * before the shift the model applies) or TRL's {@code completion_mask} (1 where trained); both come
 * out as the same row, so the two spellings of one example are one example.
 *
 * <p>An {@code attention_mask}, if present, must be all ones: padding is a batching concern, and a
 * row that carries it would train on pad positions or need them guessed away, so it is refused.
 *
 * @param inputIds the token ids, non-negative, at least one
 * @param trained whether each position is trained on, at least one
 */
public record TokenizedRow(int[] inputIds, boolean[] trained) {
    /** HuggingFace's label for a position the loss ignores. */
    public static final int IGNORE_INDEX = -100;

    /** The fields that make a line tokenized (the first is required, one of the next two). */
    static boolean has(JsonNode root) {
        return root.has("input_ids");
    }

    /** Reads {@code input_ids} with {@code labels} or {@code completion_mask} from line {@code n}. */
    static TokenizedRow parse(long n, JsonNode root) throws InvalidLineException {
        int[] ids = ints(n, root, "input_ids");
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0) {
                throw invalid(n, "input_ids[" + t + "]", "must be a non-negative token id", String.valueOf(ids[t]));
            }
        }
        boolean hasLabels = root.has("labels") && !root.get("labels").isNull();
        boolean hasMask =
                root.has("completion_mask") && !root.get("completion_mask").isNull();
        if (hasLabels == hasMask) {
            throw invalid(
                    n,
                    hasLabels ? "completion_mask" : "labels",
                    hasLabels
                            ? "give labels or completion_mask, not both"
                            : "is required (or completion_mask): which positions are trained",
                    null);
        }
        boolean[] trained = new boolean[ids.length];
        if (hasLabels) {
            int[] labels = sameLength(n, root, "labels", ids.length);
            for (int t = 0; t < ids.length; t++) {
                if (labels[t] != IGNORE_INDEX && labels[t] != ids[t]) {
                    throw invalid(
                            n,
                            "labels[" + t + "]",
                            "must be -100 (not trained) or input_ids[" + t + "] = " + ids[t],
                            String.valueOf(labels[t]));
                }
                trained[t] = labels[t] != IGNORE_INDEX;
            }
        } else {
            int[] mask = sameLength(n, root, "completion_mask", ids.length);
            for (int t = 0; t < ids.length; t++) {
                if (mask[t] != 0 && mask[t] != 1) {
                    throw invalid(n, "completion_mask[" + t + "]", "must be 0 or 1", String.valueOf(mask[t]));
                }
                trained[t] = mask[t] == 1;
            }
        }
        if (root.has("attention_mask") && !root.get("attention_mask").isNull()) {
            int[] attention = sameLength(n, root, "attention_mask", ids.length);
            for (int t = 0; t < ids.length; t++) {
                if (attention[t] != 1) {
                    throw invalid(
                            n,
                            "attention_mask[" + t + "]",
                            "must be 1: padding does not belong in a dataset row (remove padded positions)",
                            String.valueOf(attention[t]));
                }
            }
        }
        int first = firstTrained(trained);
        if (first < 0) {
            throw invalid(n, hasLabels ? "labels" : "completion_mask", "trains no position", null);
        }
        if (first == 0 && trained.length == 1) {
            throw invalid(
                    n,
                    hasLabels ? "labels" : "completion_mask",
                    "trains only position 0, which has no token before it to predict it from",
                    null);
        }
        return new TokenizedRow(ids, trained);
    }

    /** Number of positions trained on. */
    public int trainedCount() {
        int count = 0;
        for (boolean t : trained) {
            count += t ? 1 : 0;
        }
        return count;
    }

    private static int firstTrained(boolean[] trained) {
        for (int t = 0; t < trained.length; t++) {
            if (trained[t]) {
                return t;
            }
        }
        return -1;
    }

    private static int[] sameLength(long n, JsonNode root, String field, int length) throws InvalidLineException {
        int[] values = ints(n, root, field);
        if (values.length != length) {
            throw invalid(
                    n, field, "must have as many entries as input_ids (" + length + ")", String.valueOf(values.length));
        }
        return values;
    }

    /** A non-empty list of integers under {@code field}. */
    private static int[] ints(long n, JsonNode root, String field) throws InvalidLineException {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            throw invalid(n, field, "is required", null);
        }
        if (!node.isArray()) {
            throw invalid(
                    n,
                    field,
                    "must be a list of integers",
                    node.getNodeType().name().toLowerCase());
        }
        if (node.isEmpty()) {
            throw invalid(n, field, "must not be empty", null);
        }
        int[] values = new int[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw invalid(n, field + "[" + i + "]", "must be an integer", v.toString());
            }
            values[i] = v.intValue();
        }
        return values;
    }

    private static InvalidLineException invalid(long line, String field, String reason, String value) {
        return new InvalidLineException(LineError.of(line, field, reason, value));
    }
}
