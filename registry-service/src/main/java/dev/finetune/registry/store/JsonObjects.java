package dev.finetune.registry.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * The registry's small JSON objects in the object store: plain reads and writes, create-if-absent
 * and compare-and-set on the ETag (S3 conditional writes), which is all the registry needs instead
 * of a database.
 *
 * <p>Between instances, the store's conditional write decides who wins (MinIO and S3 check and
 * write atomically). Within this instance, conditional writes of one key are also serialised: some
 * S3 servers check the condition and then write without a lock (the local stack's s3proxy lets
 * several concurrent If-Match writers with the same ETag all succeed), and one instance must never
 * depend on that.
 */
@ApplicationScoped
public class JsonObjects {
    private static final String JSON = "application/json";

    /** Striped locks by key: bounded memory, and unrelated keys rarely wait for each other. */
    private final Object[] keyLocks = new Object[256];

    private final ObjectStore store;
    private final ObjectMapper json;

    JsonObjects(ObjectStore store, ObjectMapper json) {
        this.store = store;
        this.json = json;
        for (int i = 0; i < keyLocks.length; i++) {
            keyLocks[i] = new Object();
        }
    }

    /**
     * A value read together with the ETag it had.
     *
     * @param etag the ETag to pass to {@link #replace}; the value is at least as new as it
     */
    public record Tagged<T>(T value, String etag) {}

    public <T> Optional<T> read(String key, Class<T> type) {
        try {
            return Optional.of(parse(key, store.getBytes(key), type));
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        }
    }

    /**
     * Reads a value and its ETag. The ETag is read first: if the object changes in between, the
     * value is newer than the ETag and a {@link #replace} with that ETag fails, so a stale value is
     * never written back over a newer one.
     */
    public <T> Optional<Tagged<T>> readTagged(String key, Class<T> type) {
        var info = store.stat(key);
        if (info.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Tagged<>(
                    parse(key, store.getBytes(key), type), info.get().etag()));
        } catch (ObjectNotFoundException e) {
            return Optional.empty(); // deleted between stat and get
        }
    }

    public void write(String key, Object value) {
        store.putBytes(key, bytes(value), JSON);
    }

    /** Creates the object if no object has the key; false if one had. */
    public boolean create(String key, Object value) {
        byte[] data = bytes(value);
        synchronized (lockOf(key)) {
            return store.putIfAbsent(key, data, JSON).isPresent();
        }
    }

    /** Replaces the object if its ETag is still {@code etag}; false if it changed meanwhile. */
    public boolean replace(String key, Object value, String etag) {
        byte[] data = bytes(value);
        synchronized (lockOf(key)) {
            return store.putIfMatch(key, data, JSON, etag).isPresent();
        }
    }

    private Object lockOf(String key) {
        return keyLocks[Math.floorMod(key.hashCode(), keyLocks.length)];
    }

    public byte[] bytes(Object value) {
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(
                    "cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /** Names one level below {@code prefix} (see {@link ObjectStore#listChildren}). */
    public java.util.List<String> children(String prefix) {
        return store.listChildren(prefix);
    }

    public ObjectMapper mapper() {
        return json;
    }

    private <T> T parse(String key, byte[] data, Class<T> type) {
        try {
            return json.readValue(data, type);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt registry file " + key + ": " + e.getMessage(), e);
        }
    }
}
