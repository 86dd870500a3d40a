package dev.finetune.dataset.ingest;

/** An ingestion that cannot succeed as asked; the message says why, the status how HTTP reports it. */
public final class IngestException extends RuntimeException {
    private final int status;

    public IngestException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
