package dev.finetune.storage;

/** The object (or its whole bucket) does not exist. */
public final class ObjectNotFoundException extends ObjectStoreException {
    public ObjectNotFoundException(String bucket, String key) {
        super("no object '" + key + "' in bucket '" + bucket + "'", key);
    }

    private ObjectNotFoundException(String message, String key, boolean bucketMissing) {
        super(message, key);
    }

    /** The bucket itself is missing: nothing was ever stored, or the store was wiped. */
    public static ObjectNotFoundException noBucket(String bucket, String key) {
        return new ObjectNotFoundException("no bucket '" + bucket + "' (looking for '" + key + "')", key, true);
    }
}
