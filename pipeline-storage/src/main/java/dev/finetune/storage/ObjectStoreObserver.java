package dev.finetune.storage;

/**
 * Told about every call an {@link ObjectStore} makes, e.g. to time it for metrics. Kept free of any
 * metrics library, so this module stays plain: the services pass one that records to Micrometer.
 */
@FunctionalInterface
public interface ObjectStoreObserver {
    /** Observes nothing. */
    ObjectStoreObserver NONE = (operation, nanos, failed) -> {};

    /**
     * One call ended. Called on the caller's thread, so it must be quick; what it throws is ignored.
     *
     * @param operation a fixed, bounded name: {@code ensure_bucket}, {@code put}, {@code
     *     put_conditional}, {@code get}, {@code download}, {@code stat}, {@code list}, {@code delete},
     *     {@code copy}, {@code presign}
     * @param nanos the call's wall time, retries included; for {@code get} the time to open the stream
     * @param failed whether the store failed the call; an answer the caller asked for ("no such key",
     *     "the ETag changed") is not a failure
     */
    void completed(String operation, long nanos, boolean failed);
}
