package dev.finetune.registry.basemodel;

import dev.finetune.errors.InvalidInputException;

/**
 * A base model directory that cannot be imported; answered 400 with the file (relative to the
 * model's directory) and, where one is involved, the config field or tensor.
 */
public final class InvalidBaseModelException extends InvalidInputException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final String item;

    public InvalidBaseModelException(String file, String item, String message, Throwable cause) {
        super("files", message, cause);
        this.file = file;
        this.item = item;
    }

    /** The file that is wrong, relative to the model's directory. */
    public String file() {
        return file;
    }

    /** The config field or tensor the problem is about, or null if it concerns the whole file. */
    public String item() {
        return item;
    }
}
