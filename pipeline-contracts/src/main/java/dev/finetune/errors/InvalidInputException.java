package dev.finetune.errors;

/**
 * Bad input from a caller or an upstream system: a value out of range, a name that breaks the
 * rules, a file that is not what it claims to be. Retrying cannot fix it ({@link Failures} treats
 * it as permanent wherever it stands in a cause chain), and over HTTP it is answered with 400.
 *
 * <p>The message names the offending value; {@link #field()} names where it was, when known, as a
 * dotted path into the request or event (e.g. {@code hyperparameters.learning_rate},
 * {@code dataset.version}).
 */
public class InvalidInputException extends RuntimeException {
    private final String field;

    public InvalidInputException(String message) {
        this(null, message, null);
    }

    public InvalidInputException(String field, String message) {
        this(field, message, null);
    }

    public InvalidInputException(String field, String message, Throwable cause) {
        super(message, cause);
        this.field = field;
    }

    /** Where the bad value was (a dotted path), or {@code null} when the input as a whole is bad. */
    public String field() {
        return field;
    }
}
