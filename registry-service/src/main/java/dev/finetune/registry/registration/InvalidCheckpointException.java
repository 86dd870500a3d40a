package dev.finetune.registry.registration;

/**
 * A final checkpoint that cannot become a version (missing file, unsupported adapter setting,
 * tensors that do not fit the base model). Never retried: the message names the file and the
 * problem, and the event goes to the dead-letter topic. The low-level cause is attached as
 * suppressed, not as the cause, because I/O causes would make it look transient.
 */
public final class InvalidCheckpointException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidCheckpointException(String message, Exception detail) {
        super(message);
        if (detail != null) {
            addSuppressed(detail);
        }
    }
}
