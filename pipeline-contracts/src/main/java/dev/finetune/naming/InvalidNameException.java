package dev.finetune.naming;

import dev.finetune.errors.InvalidInputException;

/**
 * A name or path that may not become part of an object or Kafka key; the message names the field
 * and value. Bad input: answered 400 over HTTP, never retried.
 */
public final class InvalidNameException extends InvalidInputException {
    public InvalidNameException(String message) {
        super(message);
    }

    public InvalidNameException(String field, String message) {
        super(field, message);
    }
}
