package dev.finetune.training.job;

/** A job that cannot run as requested; the message names the field and the value. */
public final class InvalidJobException extends RuntimeException {
    public InvalidJobException(String message) {
        super(message);
    }
}
