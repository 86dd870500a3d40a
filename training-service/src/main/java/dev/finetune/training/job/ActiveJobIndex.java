package dev.finetune.training.job;

import dev.finetune.naming.Names;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/**
 * The jobs that have not ended, as one empty-ish object each under {@code training/active-jobs/<id>}:
 * what the lease reaper and the {@code finetune_jobs} gauge list, so their cost follows the jobs
 * waiting or training, not every job ever run. The job's record stays the truth; an entry only says
 * "look at this job". The protocol, which {@link JobStore} follows:
 *
 * <ol>
 *   <li>An entry is written (If-None-Match, once) <em>before</em> the record is created in, or moved
 *       into, a state that has not ended. A worker that dies between the two leaves an entry without
 *       a record (a reader skips it, and removes it once it is older than {@link #ORPHAN_AGE}), never
 *       a record without an entry.
 *   <li>An entry is removed only <em>after</em> the record's compare-and-set to an ended state. A
 *       worker that dies between the two leaves an entry for an ended job, which the next reader
 *       sees in the record and removes.
 * </ol>
 *
 * So every job that has not ended has an entry, whatever crashed when; a job whose worker died
 * while training is still in the index, and the reaper finds it.
 *
 * <p>Jobs recorded before the index existed get their entries once, from a full listing, the first
 * time the index is read ({@link #BACKFILLED} marks that done).
 */
final class ActiveJobIndex {
    static final String PREFIX = "training/active-jobs/";
    /** Written once the jobs recorded before the index have their entries. */
    static final String BACKFILLED = "training/active-jobs.backfilled";
    /**
     * An entry without a record this old is a creation that died half-way (a creation writes the
     * record milliseconds after the entry); younger ones may be a creation in progress.
     */
    static final java.time.Duration ORPHAN_AGE = java.time.Duration.ofHours(1);
    /** Entries read per listing request (S3 answers at most 1000). */
    static final int PAGE = 1000;

    private final ObjectStore store;

    ActiveJobIndex(ObjectStore store) {
        this.store = store;
    }

    static String key(String id) {
        return PREFIX + Names.requireName("job id", id);
    }

    /** Step 1: the job is (about to be) in a state that has not ended. Idempotent. */
    void add(String id) {
        store.putIfAbsent(
                key(id),
                ("{\"since\":\"" + Instant.now() + "\"}").getBytes(StandardCharsets.UTF_8),
                "application/json");
    }

    /** Step 2: the job's record says it ended. Removing a missing entry is not an error. */
    void remove(String id) {
        store.delete(key(id));
    }

    /** A page of entries in id order, after entry {@code startAfter} (null: from the first). */
    List<ObjectInfo> page(String startAfter) {
        return store.list(PREFIX, startAfter == null ? null : key(startAfter), PAGE);
    }

    static String id(ObjectInfo entry) {
        return entry.key().substring(PREFIX.length());
    }

    boolean backfilled() {
        return store.exists(BACKFILLED);
    }

    void markBackfilled() {
        store.putIfAbsent(
                BACKFILLED,
                ("{\"at\":\"" + Instant.now() + "\"}").getBytes(StandardCharsets.UTF_8),
                "application/json");
    }
}
