package dev.finetune.training.job;

import dev.finetune.errors.InvalidInputException;

/** A job that cannot run as requested; the message names the field and the value. */
public final class InvalidJobException extends InvalidInputException {
    public InvalidJobException(String message) {
        super(message);
    }

    public InvalidJobException(String field, String message) {
        super(field, message);
    }
}
