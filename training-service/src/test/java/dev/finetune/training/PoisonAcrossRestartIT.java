package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.events.DatasetPrepared;
import dev.finetune.events.TrainingJobRequested;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.service.testing.PoisonRecords;
import dev.finetune.storage.ObjectStore;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Poison on both topics the training-service consumes, across a restart of the packaged service:
 * each batch of poison ({@link PoisonRecords}: undecodable bytes, no CloudEvents headers, an unknown
 * ce_type) is followed by a good record, a prepared version with a training trigger, whose job
 * request lands on {@code training.jobs} behind that topic's poison. The first batch meets a running
 * worker; the second is published while no worker runs and meets the restarted one. Each poison
 * record is dead-lettered exactly once (the restart reads none of the first batch again) and both
 * triggered jobs succeed.
 */
@ExtendWith(LocalStackExtension.class)
class PoisonAcrossRestartIT {
    private static final Map<String, String> DEAD_LETTERS = Map.of(
            "training.jobs", "training.jobs.dlq.training-workers",
            "datasets.prepared", "datasets.prepared.dlq.training-service");

    @AutoClose
    private WorkerProcesses workers;

    private PoisonRecords topics;

    @Test
    void poisonBeforeAndAfterARestartIsDeadLetteredOnceAndTheGoodRecordsBehindItAreProcessed(LocalStack stack)
            throws Exception {
        topics = new PoisonRecords(stack.kafkaBootstrapServers());
        workers = new WorkerProcesses(stack);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String before = "poison-before-" + suffix;
        String after = "poison-after-" + suffix;
        ObjectStore store = workers.storeWith("poison-base", before);
        Fixtures.sftDataset(store, after);

        WorkerProcesses.Worker first = workers.start("poison-worker-1", Map.of());
        poisonThenTrigger(before);
        awaitSucceeded(first, "ds-" + before + "-1");
        assertDeadLetteredOnce(before, "the first poison");
        first.process().destroy(); // SIGTERM: a graceful stop, as a rollout does
        first.process().waitFor();

        poisonThenTrigger(after); // while no worker runs
        WorkerProcesses.Worker second = workers.start("poison-worker-2", Map.of());
        awaitSucceeded(second, "ds-" + after + "-1");
        assertDeadLetteredOnce(after, "the poison published while the service was down");
        assertDeadLetteredOnce(before, "the first poison, not read again after the restart");
        given().port(second.port()).get("/q/health/live").then().statusCode(200);
    }

    /**
     * Poison on both topics keyed {@code dataset}, then the dataset's prepared version with a
     * trigger: the job it requests is published on training.jobs after that topic's poison.
     */
    private void poisonThenTrigger(String dataset) throws Exception {
        String jobRequest = "{\"jobId\":\"poison-" + dataset + "\",\"baseModel\":\"poison-base\",\"datasetName\":\""
                + dataset + "\",\"datasetVersion\":\"1\",\"method\":\"lora\",\"objective\":\"sft\"}";
        String prepared = "{\"datasetId\":\"" + dataset + "@1\",\"datasetName\":\"" + dataset + "\",\"version\":\"1\","
                + "\"kind\":\"sft\",\"trigger\":{\"baseModel\":\"poison-base\",\"method\":\"lora\",\"objective\":\"sft\","
                + "\"hyperparameters\":{\"max_steps\":3,\"per_device_train_batch_size\":2,\"max_seq_length\":32}}}";
        topics.publishPoison("training.jobs", dataset, TrainingJobRequested.TYPE, jobRequest);
        topics.publishPoison("datasets.prepared", dataset, DatasetPrepared.TYPE, prepared);
        topics.publishEvent("datasets.prepared", dataset, DatasetPrepared.TYPE, prepared);
    }

    private void assertDeadLetteredOnce(String key, String what) {
        DEAD_LETTERS.forEach((topic, deadLetters) -> assertThat(topics.deadLettered(deadLetters, topic, key))
                .as("%s: %s", topic, what)
                .hasSize(PoisonRecords.KINDS)
                .allSatisfy(reason -> assertThat(reason).isNotBlank()));
    }

    private static void awaitSucceeded(WorkerProcesses.Worker worker, String id) {
        JsonPath job = await().atMost(Duration.ofMinutes(3))
                .pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions() // 404 until the trigger's job exists
                .until(() -> worker.job(id), j -> {
                    String state = j.getString("state");
                    assertThat(state).as(j.getString("failureReason")).isNotIn("failed", "cancelled");
                    return "succeeded".equals(state);
                });
        assertThat(job.getLong("step")).isEqualTo(3);
    }
}
