package dev.finetune.training.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.naming.Names;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The lease that makes one worker the trainer of a job: {@code training/jobs/<id>/lease.json},
 * taken and renewed by compare-and-set on its ETag. Kafka's partition ownership already sends a job
 * to one worker at a time; the lease also fences a worker that was paused past its group session
 * (a long GC, a frozen VM) and comes back after the job moved on: its next renewal fails and it
 * stops before writing anything.
 */
final class JobLease {
    /** The owner and until when it holds the lease. */
    record Holder(String worker, Instant expiresAt) {}

    private final ObjectStore store;
    private final ObjectMapper json;
    private final String key;
    private final String worker;
    private final Duration ttl;
    private String etag;

    JobLease(ObjectStore store, ObjectMapper json, String jobId, String worker, Duration ttl) {
        this.store = store;
        this.json = json;
        this.key = "training/jobs/" + Names.requireName("job id", jobId) + "/lease.json";
        this.worker = worker;
        this.ttl = ttl;
    }

    /** Takes the lease if it is free, expired, or already ours; false if another live worker holds it. */
    boolean acquire() {
        Optional<ObjectInfo> info = store.stat(key);
        byte[] next = bytes(new Holder(worker, Instant.now().plus(ttl)));
        if (info.isEmpty()) {
            return store.putIfAbsent(key, next, "application/json")
                    .map(s -> etag = s.etag())
                    .isPresent();
        }
        Holder current = read();
        if (!current.worker().equals(worker) && current.expiresAt().isAfter(Instant.now())) {
            return false;
        }
        return store.putIfMatch(key, next, "application/json", info.get().etag())
                .map(s -> etag = s.etag())
                .isPresent();
    }

    /** Extends the lease; false if it was lost (another worker took it). */
    boolean renew() {
        return store.putIfMatch(key, bytes(new Holder(worker, Instant.now().plus(ttl))), "application/json", etag)
                .map(s -> etag = s.etag())
                .isPresent();
    }

    /** Gives the lease up so the next worker need not wait for it to expire. */
    void release() {
        store.putIfMatch(key, bytes(new Holder(worker, Instant.EPOCH)), "application/json", etag);
    }

    Holder read() {
        try {
            return json.readValue(store.getBytes(key), Holder.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] bytes(Holder holder) {
        try {
            return json.writeValueAsBytes(holder);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
