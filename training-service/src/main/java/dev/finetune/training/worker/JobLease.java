package dev.finetune.training.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.naming.Names;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.StoredObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The lease that makes one worker the trainer of a job. Each time the job changes hands a new
 * generation is written, once: {@code training/jobs/<id>/lease/<generation>.json}, created with
 * If-None-Match, so of two workers taking the same expired lease exactly one wins (a write-once
 * object is reliable on every S3 server; s3proxy's If-Match is not atomic, so a compare-and-set on
 * one shared object could let both win). Only the holder rewrites its own generation afterwards
 * (renewals, release), with If-Match on its ETag.
 *
 * <p>Kafka's partition ownership already sends a job to one worker at a time; the lease also
 * fences a worker that was paused past its group session (a long GC, a frozen VM) and comes back
 * after the job moved on: its next renewal finds the next generation and it stops without writing
 * the job's state. The lease reaper ({@link LeaseReaper}) takes over jobs whose holder died.
 *
 * <p>The holder renews from two threads (its watcher every third of the TTL, its training thread once
 * more when the run ends), so the methods that read or replace the ETag are synchronized: two
 * renewals at once with the same ETag would fail one of them, and the worker would drop a finished
 * job's result as if another worker had taken it.
 */
final class JobLease {
    /**
     * The owner of one generation and until when it holds it.
     *
     * @param reaped taken over by the lease reaper (counted against its resume limit)
     * @param handedOver given up by a worker that was shutting down, after checkpointing its last
     *     step: the next holder resumes a preempted job, not a stranded one, and is not counted; on a
     *     reservation ({@code dispatched}), the run before it was handed over so, which the worker that
     *     takes the reservation learns from it ({@link #followsHandOver})
     * @param dispatched held by a role-api reaper that requested the job again on {@code
     *     training.jobs}: a reservation for the worker that takes that request, which takes the lease
     *     at once ({@link #acquire}); if none comes before it expires, the reaper requests the job
     *     again without counting a resume
     */
    record Holder(String worker, Instant expiresAt, boolean reaped, boolean handedOver, boolean dispatched) {
        boolean expired(Instant now) {
            return !expiresAt.isAfter(now);
        }

        /** Whether a worker that gets the job's request may take the lease now. */
        boolean free(Instant now) {
            return dispatched || expired(now);
        }
    }

    /** A generation of the lease and who holds (or held) it. */
    record Generation(long number, Holder holder) {}

    private static final String JSON = "application/json";
    /** Anything else under the prefix is not a generation (s3proxy lists a write in progress as {@code <name>-<uuid>}). */
    private static final Pattern GENERATION_FILE = Pattern.compile("(\\d{9})\\.json");

    private final ObjectStore store;
    private final ObjectMapper json;
    private final String prefix;
    private final String worker;
    private final Duration ttl;
    private long generation;
    private boolean reaped;
    private String etag;
    /** The holder of the generation before the one this worker took; null before it took one, or if there was none. */
    private Holder previous;

    JobLease(ObjectStore store, ObjectMapper json, String jobId, String worker, Duration ttl) {
        this.store = store;
        this.json = json;
        this.prefix = "training/jobs/" + Names.requireName("job id", jobId) + "/lease/";
        this.worker = worker;
        this.ttl = ttl;
    }

    /** Takes the lease if it is free, expired, or held by this worker; false if another live worker holds it. */
    synchronized boolean acquire() {
        Optional<Generation> current = current();
        if (current.isPresent()) {
            Holder holder = current.get().holder();
            if (!holder.worker().equals(worker) && !holder.free(Instant.now())) {
                return false;
            }
        }
        return take(current.map(Generation::number).orElse(0L) + 1, false, current.map(Generation::holder));
    }

    /**
     * Takes the lease over from a holder whose lease expired, for the reaper; false if it is live,
     * was never taken, or another worker took it first.
     */
    synchronized boolean takeOverExpired() {
        Optional<Generation> current = current();
        if (current.isEmpty() || !current.get().holder().expired(Instant.now())) {
            return false;
        }
        // A job its worker handed over at shutdown is resumed, not rescued: it does not count; nor
        // does a request again for a job whose last request found no worker in time.
        Holder last = current.get().holder();
        return take(current.get().number() + 1, !last.handedOver() && !last.dispatched(), Optional.of(last));
    }

    /**
     * Whether the run under this lease resumes a job its last worker handed over at shutdown (directly,
     * or through the reservations of a role-api reaper): a preemption, which does not count as a
     * resume against {@code max-resumes}. False for a lease taken from a worker that died or from
     * nobody.
     */
    synchronized boolean followsHandOver() {
        return previous != null && previous.handedOver();
    }

    /**
     * Turns the generation this reaper just took over into a reservation for the worker that takes
     * the job's next request, held for {@code window}; false if it was lost meanwhile.
     */
    synchronized boolean reserveForDispatch(Duration window) {
        return store.putIfMatch(
                        key(generation),
                        bytes(new Holder(worker, Instant.now().plus(window), reaped, followsHandOver(), true)),
                        JSON,
                        etag)
                .map(w -> etag = w.etag())
                .isPresent();
    }

    private boolean take(long next, boolean byReaper, Optional<Holder> before) {
        Optional<StoredObject> written = store.putIfAbsent(
                key(next), bytes(new Holder(worker, Instant.now().plus(ttl), byReaper, false, false)), JSON);
        written.ifPresent(w -> {
            generation = next;
            reaped = byReaper;
            previous = before.orElse(null);
            etag = w.etag();
        });
        return written.isPresent();
    }

    /** Extends the lease; false if it was lost (a later generation exists: another worker took the job). */
    synchronized boolean renew() {
        if (store.exists(key(generation + 1))) {
            return false;
        }
        return store.putIfMatch(
                        key(generation),
                        bytes(new Holder(worker, Instant.now().plus(ttl), reaped, false, false)),
                        JSON,
                        etag)
                .map(w -> etag = w.etag())
                .isPresent();
    }

    /** Gives the lease up so the next worker need not wait for it to expire. */
    void release() {
        release(false);
    }

    /**
     * Gives the lease up; {@code handedOver} when the job has not ended and this worker is shutting
     * down with its last step checkpointed (see {@link Holder#handedOver}).
     */
    synchronized void release(boolean handedOver) {
        store.putIfMatch(
                key(generation), bytes(new Holder(worker, Instant.EPOCH, reaped, handedOver, false)), JSON, etag);
    }

    /** The newest generation, if the lease was ever taken. */
    Optional<Generation> current() {
        return generations().stream()
                .max(Comparator.comparingLong(Long::longValue))
                .map(this::read);
    }

    /** The generation this worker holds, 0 before it took the lease. */
    synchronized long generation() {
        return generation;
    }

    private List<Long> generations() {
        return store.list(prefix).stream()
                .map(ObjectInfo::key)
                .map(k -> GENERATION_FILE.matcher(k.substring(prefix.length())))
                .filter(Matcher::matches)
                .map(m -> Long.parseLong(m.group(1)))
                .toList();
    }

    private Generation read(long number) {
        try {
            return new Generation(number, json.readValue(store.getBytes(key(number)), Holder.class));
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt lease " + key(number) + ": " + e.getMessage(), e);
        }
    }

    private String key(long number) {
        return prefix + String.format("%09d", number) + ".json";
    }

    private byte[] bytes(Holder holder) {
        try {
            return json.writeValueAsBytes(holder);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
