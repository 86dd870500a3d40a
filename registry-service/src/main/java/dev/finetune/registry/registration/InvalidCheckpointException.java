package dev.finetune.registry.registration;

import dev.finetune.errors.InvalidInputException;

/**
 * A final checkpoint that cannot become a version (missing file, unsupported adapter setting,
 * tensors that do not fit the base model). Bad input from upstream: never retried, even when the
 * low-level cause is an I/O exception; the message names the file and the problem, and the event
 * goes to the dead-letter topic.
 */
public final class InvalidCheckpointException extends InvalidInputException {
    private static final long serialVersionUID = 1L;

    public InvalidCheckpointException(String message, Exception detail) {
        super(null, message, detail);
    }
}
