package dev.finetune.localstack;

/** A local server could not be started or stopped; the message says which and why. */
public final class LocalStackException extends RuntimeException {
    public LocalStackException(String message, Throwable cause) {
        super(message, cause);
    }

    public LocalStackException(String message) {
        super(message);
    }
}
