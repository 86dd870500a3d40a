package dev.finetune.naming;

/** A name or path that may not become part of an object or Kafka key; the message names the field and value. */
public final class InvalidNameException extends IllegalArgumentException {
    public InvalidNameException(String message) {
        super(message);
    }
}
