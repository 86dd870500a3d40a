package dev.finetune.training.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.events.EventJson;
import dev.finetune.events.JobState;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import dev.finetune.training.Fixtures;
import dev.finetune.training.metrics.JobCountsProbe;
import dev.finetune.training.metrics.JobTransitions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The lease reaper and the {@code finetune_jobs} gauge read only the jobs that have not ended
 * ({@link JobStore#active}), against the real S3 server, with the store's calls counted: however
 * many jobs have ended, a look costs one listing and a read per job still going, and a job whose
 * worker died mid-run (running, lease expired) is still found, whatever write a crash cut off.
 */
@ExtendWith(LocalStackExtension.class)
class ActiveJobIndexTest {
    private static final int ENDED = 200;

    private final Map<String, LongAdder> calls = new ConcurrentHashMap<>();
    private ObjectStore store;
    private JobStore jobs;

    @BeforeEach
    void store(LocalStack stack) {
        store = new ObjectStore(
                ObjectStoreConfig.of(
                        stack.s3Endpoint(),
                        stack.s3AccessKey(),
                        stack.s3SecretKey(),
                        "active-jobs-" + UUID.randomUUID().toString().substring(0, 8)),
                (operation, nanos, failed) ->
                        calls.computeIfAbsent(operation, o -> new LongAdder()).increment());
        store.ensureBucket();
        jobs = new JobStore(store, EventJson.mapper(), new JobTransitions(new SimpleMeterRegistry()));
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    @Test
    void aLookReadsOnlyTheJobsThatHaveNotEndedHoweverManyHave() {
        assertThat(jobs.active()).isEmpty(); // a new store: nothing to backfill
        for (int i = 0; i < ENDED; i++) { // as jobs end: created, run, succeeded or failed
            String id = String.format("ended-%04d", i);
            assertThat(jobs.create(job(id, JobState.QUEUED))).isTrue();
            jobs.update(id, j -> j.withState(JobState.RUNNING, null));
            JobState end = i % 7 == 0 ? JobState.FAILED : JobState.SUCCEEDED;
            jobs.update(id, j -> j.withState(end, "x"));
        }
        jobs.create(job("queued-1", JobState.QUEUED));
        jobs.create(job("running-1", JobState.QUEUED));
        jobs.update("running-1", j -> j.withState(JobState.RUNNING, null));
        // A worker that died while training: the record says running, the lease has expired.
        jobs.create(job("stranded-1", JobState.RUNNING));
        store.putBytes(
                "training/jobs/stranded-1/lease/000000001.json",
                ("{\"worker\":\"gone\",\"expiresAt\":\"" + Instant.now().minusSeconds(60) + "\"}").getBytes(),
                "application/json");
        calls.clear();

        assertThat(jobs.active()).extracting(JobRecord::id).containsExactly("queued-1", "running-1", "stranded-1");
        assertThat(count("list")).as("listing requests").isEqualTo(1);
        assertThat(count("get")).as("records read, of %d jobs", ENDED + 3).isEqualTo(3);

        // The gauge counts the same way: by state, from the same reads.
        calls.clear();
        JobCountsProbe gauge = JobCountsProbe.start(jobs);
        await().atMost(Duration.ofSeconds(20)).until(() -> !Double.isNaN(gauge.count(JobState.RUNNING)));
        assertThat(gauge.count(JobState.RUNNING)).isEqualTo(2);
        assertThat(gauge.count(JobState.QUEUED)).isEqualTo(1);
        assertThat(gauge.count(JobState.VALIDATING)).isZero();
        assertThat(gauge.states()).doesNotContain(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED);
        assertThat(count("get")).as("records the gauge read").isEqualTo(3);
    }

    @Test
    void aWorkerThatDiedBetweenEndingAJobAndLeavingTheIndexCostsOneExtraReadOnce() {
        jobs.active();
        jobs.create(job("ended-1", JobState.RUNNING));
        // The record's CAS to succeeded went through; the worker died before removing the entry.
        JobRecord running = jobs.get("ended-1").orElseThrow();
        store.putBytes(
                JobStore.jobKey("ended-1"),
                jobs.write(running.withState(JobState.SUCCEEDED, null)),
                "application/json");
        assertThat(store.exists(ActiveJobIndex.key("ended-1"))).isTrue();

        assertThat(jobs.active()).isEmpty();
        assertThat(store.exists(ActiveJobIndex.key("ended-1")))
                .as("the entry of an ended job is removed by the reader that finds it")
                .isFalse();
    }

    @Test
    void anEntryWithoutItsRecordIsSkippedAndOnlyAnOldOneIsRemoved() {
        jobs.active();
        // A creation in progress, or one whose worker died between the entry and the record.
        store.putBytes(ActiveJobIndex.key("half-made"), "{}".getBytes(), "application/json");

        assertThat(jobs.active()).isEmpty();
        assertThat(store.exists(ActiveJobIndex.key("half-made")))
                .as("a young entry may be a creation in progress: kept")
                .isTrue();
        jobs.create(job("half-made", JobState.QUEUED)); // the creation completes
        assertThat(jobs.active()).extracting(JobRecord::id).containsExactly("half-made");
    }

    @Test
    void jobsRecordedBeforeTheIndexExistedAreFoundOnceTheIndexIsFirstRead() {
        // Records written by a version without the index: no entries.
        store.putBytes(
                JobStore.jobKey("old-running"), jobs.write(job("old-running", JobState.RUNNING)), "application/json");
        store.putBytes(
                JobStore.jobKey("old-done"), jobs.write(job("old-done", JobState.SUCCEEDED)), "application/json");

        assertThat(jobs.active()).extracting(JobRecord::id).containsExactly("old-running");
        calls.clear();
        assertThat(jobs.active()).extracting(JobRecord::id).containsExactly("old-running");
        assertThat(count("get"))
                .as("backfilled once: afterwards only the index is read")
                .isEqualTo(1);
    }

    private long count(String operation) {
        LongAdder n = calls.get(operation);
        return n == null ? 0 : n.sum();
    }

    static JobRecord job(String id, JobState state) {
        return Fixtures.jobRecord(id, state, Map.of("max_steps", 6), Instant.now());
    }
}
