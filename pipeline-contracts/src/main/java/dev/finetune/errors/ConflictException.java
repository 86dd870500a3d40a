package dev.finetune.errors;

/**
 * A request that contradicts the current state of what it addresses (a version that already exists
 * with other content, an alias that moved since the caller looked). Over HTTP it is answered with
 * 409; {@link Failures} treats it as permanent. The message says what the state is.
 */
public class ConflictException extends RuntimeException {
    public ConflictException(String message) {
        super(message);
    }
}
