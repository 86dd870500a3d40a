package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.JobState;
import dev.finetune.events.Objective;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobService;
import dev.finetune.training.job.JobStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Jobs whose worker vanished, with nothing left to redeliver them: a job record in {@code running}
 * with an expired lease and no worker, written straight to the store. The lease reaper
 * ({@code pipeline.training.reaper.interval} 1 s, {@code max-resumes} 2 in tests) resumes such a job
 * from its last checkpoint, or fails it once it has resumed it too often.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class LeaseReaperTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Object> SIX_STEPS =
            Map.of("max_steps", 6, "save_steps", 2, "per_device_train_batch_size", 2, "max_seq_length", 32);

    @Inject
    ObjectStore store;

    @Inject
    JobStore jobs;

    @Inject
    JobService service;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.baseModel(store, "tiny-qwen3");
        Fixtures.sftDataset(store, "qa");
    }

    @Test
    void aRunningJobWhoseWorkerVanishedIsResumedByTheReaperFromItsLastCheckpoint() throws Exception {
        // The step-2 checkpoint a worker that died at step 3 would have left: a finished job's, copied.
        String donor = JobLifecycleTest.create(Fixtures.loraSftJob("tiny-qwen3", "qa", SIX_STEPS));
        JobLifecycleTest.awaitState(donor, "succeeded");
        String id = "stranded-" + UUID.randomUUID().toString().substring(0, 8);
        for (ObjectInfo object : store.list("checkpoints/" + donor + "/step-2/")) {
            store.copy(object.key(), object.key().replace(donor, id));
        }
        strand(id, 3, 2);
        writeLease(id, 1, "vanished-worker", Instant.now().minusSeconds(60), false);

        // Taken over within the reaper's interval (1 s; generous bound for a loaded machine) ...
        await().atMost(Duration.ofSeconds(60)).until(() -> lease(id, 2) != null);
        // ... and from then on never without a live lease while it has not ended.
        List<String> violations = new ArrayList<>();
        JsonPath done = await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(200))
                .until(
                        () -> {
                            // The lease first, then the job: a job seen unended was unended when its lease was read.
                            JsonNode newest = newestLease(id);
                            JsonPath job = given().get("/api/jobs/{id}", id)
                                    .then()
                                    .extract()
                                    .jsonPath();
                            boolean live = Instant.parse(
                                            newest.path("expiresAt").asText())
                                    .isAfter(Instant.now());
                            if (!isTerminal(job.getString("state")) && !live) {
                                violations.add(job.getString("state") + " with lease " + newest);
                            }
                            return job;
                        },
                        j -> isTerminal(j.getString("state")));

        assertThat(done.getString("state")).as(done.getString("failureReason")).isEqualTo("succeeded");
        assertThat(violations)
                .as("moments the job was unended without a live lease")
                .isEmpty();
        assertThat(done.getLong("step")).isEqualTo(6);
        assertThat(lease(id, 2).path("reaped").asBoolean()).isTrue();
        assertThat(jobs.get(id).orElseThrow().resumes())
                .as("the reaper's resume, counted in the job's record")
                .isEqualTo(1);
        JsonPath events = given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .extract()
                .jsonPath();
        assertThat(events.getString("find { it.kind == 'state' && it.state == 'running' }.message"))
                .startsWith("lease of worker vanished-worker expired at ")
                .contains("lease reaper resume 1 of 2; resumed on worker ");
        // Resumed from the step-2 checkpoint: steps 3 to 6 trained here (progress is throttled, so
        // not every step is reported), none repeated, and checkpoints 4 and 6 written here.
        assertThat(events.getList("findAll { it.kind == 'metrics' }.metrics.step", Integer.class))
                .endsWith(6)
                .isSorted()
                .doesNotHaveDuplicates()
                .allSatisfy(step -> assertThat(step).isGreaterThanOrEqualTo(3));
        assertThat(store.exists("checkpoints/" + id + "/step-4/trainer_state.json"))
                .isTrue();
        assertThat(store.exists("checkpoints/" + id + "/step-6/adapter_model.safetensors"))
                .isTrue();
    }

    /**
     * The worker died while uploading checkpoint 4 (its files there, its manifest not: the manifest
     * goes last), so 4 was never announced: the job resumes from checkpoint 2, the last complete one.
     */
    @Test
    void aCrashMidCheckpointUploadResumesFromThePreviousCompleteCheckpoint() throws Exception {
        String donor = JobLifecycleTest.create(Fixtures.loraSftJob("tiny-qwen3", "qa", SIX_STEPS));
        JobLifecycleTest.awaitState(donor, "succeeded");
        String id = "halfup-" + UUID.randomUUID().toString().substring(0, 8);
        copyCheckpoint(donor, id, 2);
        for (ObjectInfo object : store.list("checkpoints/" + donor + "/step-4/")) {
            if (!object.key().endsWith("/trainer_state.json")) {
                store.copy(object.key(), object.key().replace(donor, id));
            }
        }
        strand(id, 4, 2);
        writeLease(id, 1, "vanished-worker", Instant.now().minusSeconds(60), false);

        JobLifecycleTest.awaitState(id, "succeeded");
        JsonPath events = given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .extract()
                .jsonPath();
        // The first step trained is reported at once: step 3, so the run started from checkpoint 2.
        assertThat(events.getList("findAll { it.kind == 'metrics' }.metrics.step", Integer.class))
                .startsWith(3)
                .endsWith(6);
        assertThat(store.exists("checkpoints/" + id + "/step-4/trainer_state.json"))
                .as("checkpoint 4 trained again and uploaded whole")
                .isTrue();
        assertThat(events.getList("findAll { it.kind == 'checkpoint' }.message", String.class))
                .containsExactly(
                        "checkpoint at checkpoints/" + id + "/step-4/",
                        "final result at checkpoints/" + id + "/step-6/");
    }

    /**
     * The worker died after uploading checkpoint 4 whole but before announcing it (record and
     * event): the job resumes from 4, and announces it once, before training on.
     */
    @Test
    void aCheckpointUploadedButNotAnnouncedBeforeACrashIsResumedFromAndAnnouncedOnce() throws Exception {
        String donor = JobLifecycleTest.create(Fixtures.loraSftJob("tiny-qwen3", "qa", SIX_STEPS));
        JobLifecycleTest.awaitState(donor, "succeeded");
        String id = "unsaid-" + UUID.randomUUID().toString().substring(0, 8);
        copyCheckpoint(donor, id, 2);
        copyCheckpoint(donor, id, 4);
        strand(id, 4, 2);
        writeLease(id, 1, "vanished-worker", Instant.now().minusSeconds(60), false);

        JsonPath done = JobLifecycleTest.awaitState(id, "succeeded");
        assertThat(done.getLong("lastCheckpointStep")).isEqualTo(6);
        JsonPath events = given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .extract()
                .jsonPath();
        assertThat(events.getList("findAll { it.kind == 'metrics' }.metrics.step", Integer.class))
                .startsWith(5)
                .endsWith(6);
        assertThat(events.getList("findAll { it.kind == 'checkpoint' }.message", String.class))
                .containsExactly(
                        "checkpoint at checkpoints/" + id + "/step-4/",
                        "final result at checkpoints/" + id + "/step-6/");
        assertThat(dev.finetune.service.testing.EventTopics.read(
                        "checkpoints.created", v -> v.path("jobId").asText().equals(id), 2, Duration.ofSeconds(20)))
                .extracting(r -> r.value().path("step").asLong()
                        + (r.value().path("isFinal").asBoolean() ? " final" : ""))
                .containsExactly("4", "6 final");
    }

    private void copyCheckpoint(String from, String to, int step) {
        for (ObjectInfo object : store.list("checkpoints/" + from + "/step-" + step + "/")) {
            store.copy(object.key(), object.key().replace(from, to));
        }
    }

    @Test
    void aJobResumedMaxResumesTimesIsFailedByTheReaperWithTheReason() throws Exception {
        String id = "doomed-" + UUID.randomUUID().toString().substring(0, 8);
        strand(id, 1, 0, 2);
        Instant past = Instant.now().minusSeconds(60);
        writeLease(id, 1, "first-worker", past, false);
        writeLease(id, 2, "second-worker", past, true);
        writeLease(id, 3, "third-worker", past, true);

        JsonPath failed = JobLifecycleTest.awaitState(id, "failed");

        assertThat(failed.getString("failureReason"))
                .startsWith("stranded: lease of worker third-worker expired at ")
                .contains("it was resumed 2 times after runs that died before the job ended")
                .contains("(pipeline.training.reaper.max-resumes)");
        assertThat(Instant.parse(newestLease(id).path("expiresAt").asText()))
                .as("the lease is given up once the job has ended")
                .isBefore(Instant.now());
        assertThat(store.list("checkpoints/" + id + "/"))
                .as("nothing was trained")
                .isEmpty();
    }

    private static boolean isTerminal(String state) {
        return JobState.fromCode(state).isTerminal();
    }

    /**
     * A redelivered record counts as a resume as much as the reaper's takeover does: with a pod per
     * job (a Kubernetes Job), a request whose runs die (out of memory, say) would otherwise come back
     * with every pod KEDA starts for it. The job's record was already resumed the 2 times tests allow
     * and its last run died before it took a lease (so the reaper has nothing to take over); the
     * record is delivered once more, and the worker that gets it fails the job instead of training.
     */
    @Test
    void aRedeliveredJobPastMaxResumesIsFailedByTheWorkerThatGetsItsRecord() throws Exception {
        String id = "redelivered-" + UUID.randomUUID().toString().substring(0, 8);
        strand(id, 1, 0, 2);
        service.requestAgain(id, 1); // the record a crashed pod left uncommitted, delivered again

        JsonPath failed = JobLifecycleTest.awaitState(id, "failed");

        assertThat(failed.getString("failureReason"))
                .startsWith("its runs keep ending before it does; it was resumed 2 times after runs that died")
                .contains("(pipeline.training.reaper.max-resumes)");
        assertThat(jobs.get(id).orElseThrow().resumes())
                .as("the third resume, counted in the job's record")
                .isEqualTo(3);
        assertThat(store.list("checkpoints/" + id + "/"))
                .as("nothing was trained")
                .isEmpty();
    }

    /** A job record as a worker that died at {@code step} leaves it: running, its lease left to expire. */
    private void strand(String id, long step, long lastCheckpoint) {
        strand(id, step, lastCheckpoint, 0);
    }

    /** As {@link #strand(String, long, long)}, already resumed {@code resumes} times. */
    private void strand(String id, long step, long lastCheckpoint, int resumes) {
        Instant started = Instant.now().minusSeconds(120);
        assertThat(jobs.create(new JobRecord(
                        id,
                        "tiny-qwen3",
                        "qa",
                        "1",
                        FineTuneMethod.LORA,
                        Objective.SFT,
                        new Hyperparameters(SIX_STEPS),
                        null,
                        null,
                        JobState.RUNNING,
                        null,
                        step,
                        6,
                        lastCheckpoint,
                        null,
                        "vanished-worker",
                        resumes,
                        false,
                        0,
                        started,
                        started,
                        null)))
                .isTrue();
    }

    private void writeLease(String id, long generation, String worker, Instant expiresAt, boolean reaped) {
        String holder = "{\"worker\":\"" + worker + "\",\"expiresAt\":\"" + expiresAt + "\",\"reaped\":" + reaped + "}";
        store.putBytes(leaseKey(id, generation), holder.getBytes(StandardCharsets.UTF_8), "application/json");
    }

    private JsonNode lease(String id, long generation) throws Exception {
        return store.exists(leaseKey(id, generation)) ? JSON.readTree(store.getBytes(leaseKey(id, generation))) : null;
    }

    private JsonNode newestLease(String id) throws Exception {
        String newest = store.list("training/jobs/" + id + "/lease/").stream()
                .map(ObjectInfo::key)
                .filter(k -> k.matches(".*/\\d{9}\\.json"))
                .max(String::compareTo)
                .orElseThrow();
        return JSON.readTree(store.getBytes(newest));
    }

    private static String leaseKey(String id, long generation) {
        return "training/jobs/" + id + "/lease/" + String.format("%09d", generation) + ".json";
    }
}
