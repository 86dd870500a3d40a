package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.JobState;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobService;
import dev.finetune.training.job.JobStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Jobs whose creating request stopped half-way (issue 20: "the job-state machine never left in a
 * non-terminal state without a live lease"): the record was written, but the service died, or the
 * broker stayed away past the send's final timeout, before the request was on {@code
 * training.jobs}. Nothing would ever deliver such a job to a worker; the lease reaper requests it
 * ({@code pipeline.training.reaper.unrequested-after}, 5 s in tests). Records are written straight
 * to the store, as the dead request left them.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class UnrequestedJobTest {
    private static final Map<String, Object> FOUR_STEPS =
            Map.of("max_steps", 4, "save_steps", 4, "per_device_train_batch_size", 2, "max_seq_length", 32);

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
    void aJobLeftValidatingIsRequestedByTheReaperAndTrainsOnce() throws Exception {
        assertRequestedAndTrainedOnce(JobState.VALIDATING);
    }

    @Test
    void aQueuedJobWhoseRequestNeverReachedTheBrokerIsRequestedByTheReaperAndTrainsOnce() throws Exception {
        assertRequestedAndTrainedOnce(JobState.QUEUED);
    }

    @Test
    void aJobCancelledWhileItWasBeingCreatedStaysCancelledAndIsNeverRequested() throws Exception {
        String id = "cancelled-early-" + UUID.randomUUID().toString().substring(0, 8);
        // Recorded, not yet queued: the window between the record and the request of POST /api/jobs.
        JobRecord created = Fixtures.jobRecord(id, JobState.VALIDATING, FOUR_STEPS, Instant.now());
        assertThat(jobs.create(created)).isTrue();
        given().post("/api/jobs/{id}/cancel", id).then().statusCode(200);
        assertThat(jobs.get(id).orElseThrow().state()).isEqualTo(JobState.CANCELLED);

        // The creating request goes on from where it was (its record read before the cancel).
        assertThat(service.requeueIfStranded(created, Duration.ZERO))
                .as("a cancelled job is not queued")
                .isFalse();
        assertThat(jobs.get(id).orElseThrow().state()).isEqualTo(JobState.CANCELLED);
        assertThat(requests(id, 1)).as("requests on training.jobs").isEmpty();
        assertThat(jobs.requested(id)).isFalse();
    }

    private void assertRequestedAndTrainedOnce(JobState left) throws Exception {
        String id = "unrequested-" + left.code() + "-"
                + UUID.randomUUID().toString().substring(0, 8);
        assertThat(jobs.create(
                        Fixtures.jobRecord(id, left, FOUR_STEPS, Instant.now().minusSeconds(60))))
                .isTrue();

        var done = JobLifecycleTest.awaitState(id, "succeeded");
        assertThat(done.getLong("step")).isEqualTo(4);
        assertThat(jobs.requested(id)).isTrue();
        assertThat(requests(id, 2)).as("requests on training.jobs").hasSize(1);
        List<String> states = given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("findAll { it.kind == 'state' }.state");
        assertThat(states).containsSubsequence("running", "succeeded").doesNotHaveDuplicates();
    }

    private static List<EventTopics.Received> requests(String id, int min) throws Exception {
        return EventTopics.read("training.jobs", v -> v.path("jobId").asText().equals(id), min, Duration.ofSeconds(5));
    }
}
