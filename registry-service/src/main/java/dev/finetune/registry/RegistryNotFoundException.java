package dev.finetune.registry;

import dev.finetune.errors.ResourceNotFoundException;

/** A model, version, alias or file that does not exist; answered 404 with the message. */
public final class RegistryNotFoundException extends ResourceNotFoundException {
    private static final long serialVersionUID = 1L;

    public RegistryNotFoundException(String message) {
        super(message);
    }
}
