package dev.finetune.errors;

/**
 * A thing a caller named (a model, a version, an alias, a job) does not exist. Over HTTP it is
 * answered with 404; {@link Failures} treats it as permanent. The message names what was looked for.
 */
public class ResourceNotFoundException extends RuntimeException {
    public ResourceNotFoundException(String message) {
        super(message);
    }
}
