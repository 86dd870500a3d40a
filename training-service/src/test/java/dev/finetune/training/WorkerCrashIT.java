package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.localstack.FreePorts;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two real worker processes (the packaged service) against the real broker and S3: the first is
 * killed with SIGKILL mid-job; the second takes the job over from its last stored checkpoint and
 * finishes it with the same total number of steps.
 */
@ExtendWith(LocalStackExtension.class)
class WorkerCrashIT {
    private final List<Process> workers = new ArrayList<>();

    @AfterEach
    void stopWorkers() {
        workers.forEach(Process::destroyForcibly);
    }

    @Test
    void jobOfAWorkerKilledMidJobResumesOnAnotherFromItsLastCheckpoint(LocalStack stack) throws Exception {
        ObjectStore store = new ObjectStore(
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), "finetune"));
        store.ensureBucket();
        Fixtures.baseModel(store, "crash-base");
        Fixtures.sftDataset(store, "crash-qa");

        int portA = FreePorts.find();
        Process a = startWorker(stack, "worker-a", portA);
        awaitHealthy(portA);
        String id = given().port(portA)
                .contentType("application/json")
                .body(Map.of(
                        "baseModel",
                        "crash-base",
                        "dataset",
                        Map.of("name", "crash-qa", "version", "1"),
                        "hyperparameters",
                        Map.of(
                                "max_steps",
                                40,
                                "save_steps",
                                5,
                                "per_device_train_batch_size",
                                2,
                                "max_seq_length",
                                32)))
                .post("/api/jobs")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        await().atMost(Duration.ofMinutes(3)).until(() -> job(portA, id).getLong("lastCheckpointStep") >= 10);

        a.destroyForcibly().waitFor(); // kill -9: no shutdown hook, no lease release, no commit
        long checkpointAtKill = job(startedB(stack), id).getLong("lastCheckpointStep");

        JsonPath done = await().atMost(Duration.ofMinutes(4))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> job(portB, id), j -> "succeeded".equals(j.getString("state")));
        assertThat(done.getLong("step")).isEqualTo(40);
        assertThat(done.getLong("totalSteps")).isEqualTo(40);
        assertThat(done.getString("worker")).isEqualTo("worker-b");
        JsonPath log = given().port(portB)
                .get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        long resumedAt = log.getLong("find { it.message == 'resumed on worker worker-b' }.sequence");
        List<Integer> stepsOnB = log.getList(
                "findAll { it.kind == 'metrics' && it.sequence > " + resumedAt + " }.metrics.step", Integer.class);
        // B continued from the newest stored checkpoint (at least the one seen before the kill):
        // at most one checkpoint interval (5 steps) of A's work is redone, and no step is skipped.
        assertThat(stepsOnB.get(0)).isGreaterThan((int) checkpointAtKill);
        assertThat(stepsOnB).isSorted().doesNotHaveDuplicates().endsWith(40);
        assertThat(stepsOnB).hasSize(40 - stepsOnB.get(0) + 1);
        assertThat(store.exists("checkpoints/" + id + "/step-40/adapter_model.safetensors"))
                .isTrue();
    }

    private int portB;

    /** Starts worker B once A is dead; returns its port. */
    private int startedB(LocalStack stack) throws Exception {
        portB = FreePorts.find();
        startWorker(stack, "worker-b", portB);
        awaitHealthy(portB);
        return portB;
    }

    private Process startWorker(LocalStack stack, String name, int port) throws IOException {
        Path jar = Path.of("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " is missing: run in the integration-test phase");
        }
        Path log = Files.createDirectories(Path.of("target/worker-logs")).resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx1g",
                        "-Dai.djl.pytorch.num_threads=1",
                        "-Dai.djl.pytorch.num_interop_threads=1",
                        "-Dai.djl.offline=true",
                        "-jar",
                        jar.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.put("QUARKUS_HTTP_PORT", String.valueOf(port));
        env.put("KAFKA_BOOTSTRAP_SERVERS", stack.kafkaBootstrapServers());
        env.put("PIPELINE_OBJECT_STORE_ENDPOINT", stack.s3Endpoint());
        env.put("PIPELINE_OBJECT_STORE_ACCESS_KEY", stack.s3AccessKey());
        env.put("PIPELINE_OBJECT_STORE_SECRET_KEY", stack.s3SecretKey());
        env.put("PIPELINE_SECURITY_ENABLED", "false");
        env.put("PIPELINE_TRAINING_WORKER_ID", name);
        env.put("PIPELINE_TRAINING_WORK_DIR", Files.createTempDirectory(name).toString());
        env.put("PIPELINE_TRAINING_LEASE_TTL", "6s");
        // The broker's minimum: a dead worker's partition moves after 6 s instead of 45.
        env.put("TRAINING_SESSION_TIMEOUT_MS", "6000");
        Process process = builder.start();
        workers.add(process);
        return process;
    }

    private static void awaitHealthy(int port) {
        await().atMost(Duration.ofSeconds(60))
                .ignoreExceptions()
                .until(() -> given().port(port).get("/q/health/ready").statusCode() == 200);
    }

    private static JsonPath job(int port, String id) {
        return given().port(port)
                .get("/api/jobs/{id}", id)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }
}
