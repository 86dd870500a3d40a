package dev.finetune.dataset.validation;

/**
 * A line failed validation; carries the error for the report and the rule it broke, a short code
 * from a fixed set for counting (metrics), never the message or the line. Thrown and caught per line
 * only.
 */
public final class InvalidLineException extends Exception {
    private final LineError error;
    private final String rule;

    /** A field is at fault: the rule is the field's path without indices, e.g. {@code messages[].role}. */
    public InvalidLineException(LineError error) {
        this(error, error.field() == null ? "line" : error.field().replaceAll("\\[\\d+]", "[]"));
    }

    /** The whole line is at fault, for the reason {@code rule} names (e.g. {@code json}). */
    public InvalidLineException(LineError error, String rule) {
        super(error.toString(), null, false, false); // no stack trace: this is data, not a bug
        this.error = error;
        this.rule = rule;
    }

    public LineError error() {
        return error;
    }

    /** The rule the line broke, from a fixed set: a field path or a whole-line rule. */
    public String rule() {
        return rule;
    }
}
