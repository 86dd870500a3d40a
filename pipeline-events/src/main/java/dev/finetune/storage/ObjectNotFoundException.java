package dev.finetune.storage;

/** The object (or bucket) does not exist. */
public final class ObjectNotFoundException extends ObjectStoreException {
    public ObjectNotFoundException(String bucket, String key) {
        super("no object '" + key + "' in bucket '" + bucket + "'", key);
    }
}
