package dev.finetune.dataset.format;

import dev.finetune.errors.InvalidInputException;

/**
 * The dataset as a whole cannot be read: a corrupt or truncated gzip archive, or one that expands
 * beyond the decompression limits. Bad input, so it is never retried; the version is rejected with
 * this message.
 */
public final class UnreadableInputException extends InvalidInputException {
    public UnreadableInputException(String message, Throwable cause) {
        super(null, message, cause);
    }
}
