package dev.finetune.registry.store;

/** A stored file whose bytes are not the ones recorded (SHA-256 or size differ): never served. */
public final class IntegrityException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public IntegrityException(String message) {
        super(message);
    }
}
