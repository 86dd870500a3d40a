package dev.finetune.dataset.ingest;

import dev.finetune.errors.InvalidInputException;

/**
 * An ingestion that cannot succeed as asked; the message says why, the status how HTTP reports it
 * (400, 409, 413 or 422). Every one is about the input (its size, its bytes, a version that exists
 * with other bytes), so it is never retried.
 */
public final class IngestException extends InvalidInputException {
    private final int status;

    public IngestException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
