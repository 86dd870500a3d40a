package dev.finetune.training.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.naming.Names;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.metrics.JobTransitions;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Jobs in the object store, under {@code training/jobs/<id>/}: {@code job.json} (the record,
 * changed only by compare-and-set), {@code events/<sequence>.json} (the job's event log), {@code
 * cancel.json} (a cancel request, written once) and {@code requested.json} (the job's request is on
 * {@code training.jobs}, written once).
 *
 * <p>The cancel request has an object of its own because the record is rewritten several times a
 * step while a job trains, and an S3 server whose conditional writes are not atomic (s3proxy's
 * filesystem store is one) can let a concurrent compare-and-set win over it: a write-once marker
 * cannot be overwritten, so a cancel is never lost.
 *
 * <p>Jobs that have not ended also have an entry in the {@link ActiveJobIndex}, written before the
 * record enters such a state and removed after it ends, so the lease reaper and the jobs gauge read
 * only those ({@link #active}), however many jobs have run.
 */
@ApplicationScoped
public class JobStore {
    private static final Logger LOG = Logger.getLogger(JobStore.class);
    private static final String JSON = "application/json";
    /** A CAS loses only to another writer of the same job; a handful of retries always suffice. */
    private static final int MAX_CAS_ATTEMPTS = 20;

    private final ObjectStore store;
    private final ObjectMapper json;
    private final JobTransitions transitions;
    private final ActiveJobIndex index;
    /** Whether the jobs recorded before the index are known to have their entries. */
    private volatile boolean backfilled;

    JobStore(ObjectStore store, ObjectMapper json, JobTransitions transitions) {
        this.store = store;
        this.json = json;
        this.transitions = transitions;
        this.index = new ActiveJobIndex(store);
    }

    static String jobKey(String id) {
        return "training/jobs/" + Names.requireName("job id", id) + "/job.json";
    }

    static String eventKey(String id, long sequence) {
        return "training/jobs/" + Names.requireName("job id", id) + "/events/" + String.format("%012d", sequence)
                + ".json";
    }

    static String cancelKey(String id) {
        return "training/jobs/" + Names.requireName("job id", id) + "/cancel.json";
    }

    /** Records that the job is to be cancelled (idempotent; the first request's time is kept). */
    public void requestCancel(String id) {
        writeOnce(cancelKey(id));
    }

    static String requestedKey(String id) {
        return "training/jobs/" + Names.requireName("job id", id) + "/requested.json";
    }

    /** Records that the job's request on {@code training.jobs} was acknowledged by the broker. */
    public void markRequested(String id) {
        writeOnce(requestedKey(id));
    }

    /** A marker object with the time it was first written; a second write changes nothing. */
    private void writeOnce(String key) {
        store.putIfAbsent(
                key,
                ("{\"requestedAt\":\"" + java.time.Instant.now() + "\"}")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8),
                JSON);
    }

    /** Whether the job's request is on {@code training.jobs} ({@link #markRequested}). */
    public boolean requested(String id) {
        return store.exists(requestedKey(id));
    }

    /** Whether a cancel was asked for: the marker, or the record's flag. */
    public boolean cancelRequested(String id) {
        return store.exists(cancelKey(id))
                || get(id).map(JobRecord::cancelRequested).orElse(false);
    }

    /** Creates the job; false if a job with this id exists already. */
    public boolean create(JobRecord job) {
        if (!job.state().isTerminal()) {
            index.add(job.id()); // before the record: a crash in between leaves an entry, not a lost job
        }
        boolean created = store.putIfAbsent(jobKey(job.id()), write(job), JSON).isPresent();
        if (created) {
            transitions.entered(job.state());
        }
        return created;
    }

    public Optional<JobRecord> get(String id) {
        return read(jobKey(id), JobRecord.class);
    }

    /** Applies {@code change} atomically (compare-and-set on the ETag, retried on conflict). */
    public JobRecord update(String id, UnaryOperator<JobRecord> change) {
        for (int attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
            ObjectInfo info =
                    store.stat(jobKey(id)).orElseThrow(() -> new ObjectNotFoundException(store.bucket(), jobKey(id)));
            // If the object changes between the stat and the read, the put below fails on the stale
            // ETag and we start over: no update is ever applied to a version it was not computed from.
            JobRecord current = read(jobKey(id), JobRecord.class).orElseThrow();
            JobRecord next = change.apply(current);
            if (next.equals(current)) {
                return current;
            }
            boolean stateChanges = next.state() != current.state();
            if (stateChanges && !next.state().isTerminal()) {
                index.add(id); // before the record (a job recorded before the index gets its entry here)
            }
            if (store.putIfMatch(jobKey(id), write(next), JSON, info.etag()).isPresent()) {
                if (stateChanges) {
                    transitions.entered(next.state());
                    if (next.state().isTerminal()) {
                        leaveIndex(id);
                    }
                }
                return next;
            }
        }
        throw new IllegalStateException("job " + id + " is being changed by too many writers at once");
    }

    /** Appends an event to the job's log, numbering it; returns the sequence number. */
    public long appendEvent(String id, java.util.function.LongFunction<Object> eventForSequence) {
        return appendEvent(id, UnaryOperator.identity(), eventForSequence);
    }

    /**
     * Appends an event to the job's log and applies {@code change} to the record in the same
     * compare-and-set that numbers the event (one write of the record, not two); returns the
     * sequence number.
     */
    public long appendEvent(
            String id, UnaryOperator<JobRecord> change, java.util.function.LongFunction<Object> eventForSequence) {
        JobRecord updated = update(id, job -> change.apply(job).withEventSequence(job.eventSequence() + 1));
        long sequence = updated.eventSequence();
        store.putBytes(eventKey(id, sequence), write(eventForSequence.apply(sequence)), JSON);
        return sequence;
    }

    private static final Pattern EVENT_FILE = Pattern.compile("(\\d{12})\\.json");

    /**
     * Events of a job with sequence > {@code after}, oldest first, at most {@code limit}. Reads only
     * those: the listing starts after the key of event {@code after} (keys are zero-padded, so key
     * order is sequence order) and stops once the page is full.
     */
    public <T> List<T> events(String id, long after, int limit, Class<T> type) {
        String prefix = eventsPrefix(id);
        List<T> events = new ArrayList<>();
        String startAfter = eventKey(id, after);
        while (events.size() < limit) {
            int wanted = limit - events.size();
            List<ObjectInfo> page = store.list(prefix, startAfter, wanted);
            for (ObjectInfo info : page) {
                Matcher event = EVENT_FILE.matcher(info.key().substring(prefix.length()));
                // Anything else under the prefix is not an event: s3proxy's filesystem store, for one,
                // lists a write in progress as "<name>-<uuid>".
                if (event.matches()) {
                    read(info.key(), type).ifPresent(events::add);
                }
            }
            if (page.size() < wanted) {
                break; // the log ends here
            }
            startAfter = page.get(page.size() - 1).key();
        }
        return events;
    }

    private static String eventsPrefix(String id) {
        return "training/jobs/" + Names.requireName("job id", id) + "/events/";
    }

    /**
     * A page of jobs in id order: those whose id sorts after {@code after} (null for the first
     * page), at most {@code limit}. Reads only the page's records.
     */
    public List<JobRecord> page(String after, int limit) {
        String prefix = "training/jobs/";
        // '0' is the character after '/': every key of job <after> sorts before "<after>0", and the
        // next job's keys after it.
        String startAfter = after == null ? null : prefix + Names.requireName("job id", after) + "0";
        List<JobRecord> page = new ArrayList<>();
        while (page.size() < limit) {
            int wanted = limit - page.size();
            List<String> ids = store.listChildren(prefix, startAfter, wanted);
            for (String id : ids) {
                if (Names.isName(id)) {
                    get(id).ifPresent(page::add);
                }
            }
            if (ids.size() < wanted) {
                break;
            }
            startAfter = prefix + ids.get(ids.size() - 1) + "0";
        }
        return page;
    }

    /**
     * The jobs that have not ended (validating, queued, running), in id order, read through the
     * {@link ActiveJobIndex}: one listing request per 1000 entries and one read per entry, however
     * many jobs have ended. An entry left behind by a crash is tidied away here: one whose job ended
     * (its worker died between the record and the entry's removal), or one without a record that is
     * older than {@link ActiveJobIndex#ORPHAN_AGE} (its creator died between the entry and the record).
     */
    public List<JobRecord> active() {
        backfillIndex();
        List<JobRecord> active = new ArrayList<>();
        Instant orphaned = Instant.now().minus(ActiveJobIndex.ORPHAN_AGE);
        String after = null;
        while (true) {
            List<ObjectInfo> page = index.page(after);
            for (ObjectInfo entry : page) {
                String id = ActiveJobIndex.id(entry);
                Optional<JobRecord> job = Names.isName(id) ? get(id) : Optional.empty();
                if (job.isPresent() && !job.get().state().isTerminal()) {
                    active.add(job.get());
                } else if (job.isPresent()
                        || (entry.lastModified() != null && entry.lastModified().isBefore(orphaned))) {
                    leaveIndex(id);
                }
            }
            if (page.size() < ActiveJobIndex.PAGE) {
                return active;
            }
            after = ActiveJobIndex.id(page.get(page.size() - 1));
        }
    }

    /**
     * Once per store: gives the jobs recorded before the index existed their entries. It reads every
     * record, once; a crash before it is marked done only means the next reader does it again.
     */
    private void backfillIndex() {
        if (backfilled) {
            return;
        }
        if (!index.backfilled()) {
            for (JobRecord job : list()) {
                if (!job.state().isTerminal()) {
                    index.add(job.id());
                }
            }
            index.markBackfilled();
        }
        backfilled = true;
    }

    /** Step 2 of the index's protocol; a failure leaves the entry for the next reader to remove. */
    private void leaveIndex(String id) {
        try {
            index.remove(id);
        } catch (RuntimeException e) {
            LOG.debugf(e, "job %s: its active-jobs entry stays until the next reader removes it", id);
        }
    }

    /**
     * Every job, page by page. It reads every record, so it is for the one-off backfill of the index
     * and for tests; the reaper and the gauge use {@link #active}.
     */
    public List<JobRecord> list() {
        List<JobRecord> jobs = new ArrayList<>();
        List<JobRecord> page = page(null, LIST_PAGE);
        while (!page.isEmpty()) {
            jobs.addAll(page);
            page = page.size() < LIST_PAGE
                    ? List.of()
                    : page(page.get(page.size() - 1).id(), LIST_PAGE);
        }
        return jobs;
    }

    private static final int LIST_PAGE = 500;

    /** The job an idempotency key created, if any. */
    public Optional<String> jobForKey(String keyHash) {
        return read("training/idempotency/" + keyHash + ".json", String.class);
    }

    /** Records which job an idempotency key created; false if the key already names a job. */
    public boolean claimKey(String keyHash, String jobId) {
        return store.putIfAbsent("training/idempotency/" + keyHash + ".json", write(jobId), JSON)
                .isPresent();
    }

    byte[] write(Object value) {
        try {
            return json.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    <T> Optional<T> read(String key, Class<T> type) {
        try {
            return Optional.of(json.readValue(store.getBytes(key), type));
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt " + key + ": " + e.getMessage(), e);
        }
    }
}
