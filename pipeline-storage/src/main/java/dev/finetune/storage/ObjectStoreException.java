package dev.finetune.storage;

/** An object-store operation failed; the message names the operation, the key and the store's reason. */
public class ObjectStoreException extends RuntimeException {
    private final String key;

    public ObjectStoreException(String operation, String key, Throwable cause) {
        super("object store " + operation + " of '" + key + "' failed: " + describe(cause), cause);
        this.key = key;
    }

    protected ObjectStoreException(String message, String key) {
        super(message);
        this.key = key;
    }

    /** The object key (or prefix) the failed operation was about. */
    public String key() {
        return key;
    }

    private static String describe(Throwable cause) {
        if (cause instanceof io.minio.errors.ErrorResponseException e && e.errorResponse() != null) {
            return e.errorResponse().code() + ": " + e.errorResponse().message();
        }
        return String.valueOf(cause);
    }
}
