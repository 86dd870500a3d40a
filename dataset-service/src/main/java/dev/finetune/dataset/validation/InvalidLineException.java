package dev.finetune.dataset.validation;

/** A line failed validation; carries the error for the report. Thrown and caught per line only. */
public final class InvalidLineException extends Exception {
    private final LineError error;

    public InvalidLineException(LineError error) {
        super(error.toString(), null, false, false); // no stack trace: this is data, not a bug
        this.error = error;
    }

    public LineError error() {
        return error;
    }
}
