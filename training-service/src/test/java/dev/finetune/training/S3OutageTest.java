package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.localstack.SharedLocalStack;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * A 30 s object-store outage (issue 20), shorter than the retry budget (75 s in tests), in the middle of a training
 * job that also ends during it: the job's next progress reports, its final checkpoint upload, the
 * result upload and record, the final checkpoint event, the final state and the lease release all
 * meet the outage, and the job succeeds once, with one final checkpoint event. The store is stopped
 * at a known point of the run ({@link PhaseHooks}), on the job's own thread, so a fast or a slow run
 * meets the outage where the test says. One outage covers both the mid-run and the end-of-run
 * writes: each outage costs the suite 30 s.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class S3OutageTest {
    private static final Duration OUTAGE = Duration.ofSeconds(30);

    @Inject
    ObjectStore store;

    @Inject
    PhaseHooks hooks;

    /**
     * The store stops once the first checkpoint (step 20) is uploaded, while training goes on to its
     * last step (30), which it reaches during the outage: the final checkpoint's upload and every
     * end-of-run write then wait for the store.
     */
    @Test
    void aJobThatMeetsAnS3OutageMidRunAndEndsDuringItSucceedsOnceWhenTheStoreReturns() throws Exception {
        String dataset = "outage-" + UUID.randomUUID().toString().substring(0, 8);
        AtomicBoolean trained = new AtomicBoolean();
        AtomicBoolean stoppedMidTraining = new AtomicBoolean();
        AtomicBoolean trainedDuringOutage = new AtomicBoolean();
        hooks.onceWhenEnded("training.train", dataset, () -> trained.set(true));
        runThroughAnOutage(
                dataset,
                30,
                20,
                "training.upload-checkpoint",
                () -> stoppedMidTraining.set(!trained.get()),
                () -> trainedDuringOutage.set(trained.get()));
        assertThat(stoppedMidTraining)
                .as("the store stopped while the job was still training")
                .isTrue();
        assertThat(trainedDuringOutage)
                .as("training ended while the store was down, so the end-of-run writes met the outage")
                .isTrue();
    }

    /**
     * Trains a job on {@code dataset} and stops the store when phase {@code stopAfter} of the job
     * ends; starts it again {@link #OUTAGE} later, probing readiness and liveness meanwhile;
     * {@code atStop} runs as the store stops, {@code atRestart} just before it starts again.
     */
    private void runThroughAnOutage(
            String dataset, int maxSteps, int saveSteps, String stopAfter, Runnable atStop, Runnable atRestart)
            throws Exception {
        LocalStack stack = SharedLocalStack.get();
        assertThat(stack.s3Endpoint())
                .as("the stack this test stops is the one the service uses")
                .isEqualTo(ConfigProvider.getConfig().getValue("pipeline.object-store.endpoint", String.class));
        Fixtures.baseModel(store, "tiny-qwen3");
        Fixtures.sftDataset(store, dataset);
        CountDownLatch stopped = new CountDownLatch(1);
        hooks.onceWhenEnded(stopAfter, dataset, () -> {
            atStop.run();
            stack.stopS3();
            stopped.countDown();
        });
        String id = JobLifecycleTest.create(Fixtures.loraSftJob(
                "tiny-qwen3",
                dataset,
                Map.of(
                        "max_steps",
                        maxSteps,
                        "save_steps",
                        saveSteps,
                        "per_device_train_batch_size",
                        2,
                        "max_seq_length",
                        32)));

        boolean stoppedInTime = stopped.await(180, TimeUnit.SECONDS);
        try {
            assertThat(stoppedInTime)
                    .as("phase %s of job %s ended and the store stopped", stopAfter, id)
                    .isTrue();
            long outageEnds = System.nanoTime() + OUTAGE.toNanos();
            readinessSaysTheStoreIsDown();
            Thread.sleep(Math.max(0, (outageEnds - System.nanoTime()) / 1_000_000)); // the outage itself
        } finally {
            if (stopped.getCount() == 0) {
                atRestart.run();
                stack.startS3();
            }
        }

        JsonPath job = JobLifecycleTest.awaitState(id, "succeeded");
        assertThat(job.getLong("step")).isEqualTo(maxSteps);
        assertThat(store.exists("checkpoints/" + id + "/step-" + maxSteps + "/adapter_model.safetensors"))
                .isTrue();
        JsonPath events = given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(events.getList("findAll { it.kind == 'state' && it.state == 'succeeded' }"))
                .hasSize(1);
        assertThat(EventTopics.read(
                        "checkpoints.created",
                        v -> v.path("jobId").asText().equals(id)
                                && v.path("isFinal").asBoolean(),
                        1,
                        Duration.ofSeconds(20)))
                .hasSize(1);
        assertThat(EventTopics.read(
                        "training.jobs.dlq.training-workers",
                        v -> v.path("jobId").asText().equals(id),
                        0,
                        Duration.ofSeconds(3)))
                .isEmpty();
    }

    /** Readiness reads DOWN for the object store within its bound, not after a hang; liveness stays UP. */
    private static void readinessSaysTheStoreIsDown() {
        for (int probe = 0; probe < 3; probe++) {
            long start = System.nanoTime();
            Response ready = given().get("/q/health/ready");
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(ready.statusCode()).as(ready.asString()).isEqualTo(503);
            assertThat(ready.jsonPath().getString("checks.find { it.name == 'object-store' }.status"))
                    .isEqualTo("DOWN");
            // Readiness answers within 1 s (BoundedCheck caps the store's call at 900 ms); the bound
            // leaves room for a loaded machine.
            assertThat(took).as("readiness answered in").isLessThan(Duration.ofMillis(2500));
            given().get("/q/health/live").then().statusCode(200);
        }
    }
}
