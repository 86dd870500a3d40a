package dev.finetune.dataset.validation;

/**
 * Why one input line was not accepted, precise enough to fix it.
 *
 * @param line 1-based line number in the raw (decompressed) file
 * @param field the JSON path of the offending field, e.g. {@code messages[2].role}, or null when the
 *     whole line is at fault (bad JSON, not UTF-8)
 * @param reason what is wrong, e.g. "must be one of system, user, assistant"
 * @param value the offending value, shortened to at most 80 characters, or null
 */
public record LineError(long line, String field, String reason, String value) {
    private static final int MAX_VALUE_CHARS = 80;

    public static LineError of(long line, String field, String reason, String value) {
        String shown = value == null || value.length() <= MAX_VALUE_CHARS
                ? value
                : value.substring(0, MAX_VALUE_CHARS) + "...";
        return new LineError(line, field, reason, shown);
    }

    @Override
    public String toString() {
        return "line " + line + (field == null ? "" : ", " + field) + ": " + reason
                + (value == null ? "" : " (got " + value + ")");
    }
}
