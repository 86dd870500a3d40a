package dev.finetune.registry;

import dev.finetune.errors.ConflictException;

/**
 * A request that contradicts the registry's current state (an alias moved since the caller looked,
 * an archived version promoted, an aliased version archived); answered 409 with the message.
 */
public final class RegistryConflictException extends ConflictException {
    private static final long serialVersionUID = 1L;

    public RegistryConflictException(String message) {
        super(message);
    }
}
