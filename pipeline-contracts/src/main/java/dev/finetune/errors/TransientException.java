package dev.finetune.errors;

/**
 * A failure that a later attempt may not meet: a timeout, an unavailable broker or object store, a
 * 5xx answer from another service. {@link Failures#isRetriable} accepts it wherever it stands in a
 * cause chain (unless an {@link InvalidInputException} stands there too).
 */
public class TransientException extends RuntimeException {
    public TransientException(String message, Throwable cause) {
        super(message, cause);
    }
}
