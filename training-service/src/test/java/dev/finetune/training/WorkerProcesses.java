package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import dev.finetune.localstack.FreePorts;
import dev.finetune.localstack.LocalStack;
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

/**
 * The packaged training-service started as real worker processes against a local stack, for the
 * integration tests (run after packaging). Each worker gets its own port, name, work directory and
 * log under {@code target/worker-logs/}; {@link #close} kills whatever is still running.
 */
final class WorkerProcesses implements AutoCloseable {
    /** One running worker. */
    record Worker(String name, int port, Process process) {
        /** Creates a LoRA SFT job on {@code baseModel} and version 1 of {@code dataset}; returns its id. */
        String createJob(String baseModel, String dataset, Map<String, Object> hyperparameters) {
            return given().port(port)
                    .contentType("application/json")
                    .body(Fixtures.loraSftJob(baseModel, dataset, hyperparameters))
                    .post("/api/jobs")
                    .then()
                    .log()
                    .ifValidationFails()
                    .statusCode(201)
                    .extract()
                    .path("id");
        }

        /** The job's event log, oldest first. */
        JsonPath events(String id) {
            return given().port(port)
                    .get("/api/jobs/{id}/events?limit=1000", id)
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
        }

        JsonPath job(String id) {
            return given().port(port)
                    .get("/api/jobs/{id}", id)
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
        }
    }

    private final LocalStack stack;
    private final List<Process> started = new ArrayList<>();

    WorkerProcesses(LocalStack stack) {
        this.stack = stack;
    }

    /** The stack's object store, bucket created, with a tiny base model and an SFT dataset (version 1) in it. */
    ObjectStore storeWith(String baseModel, String dataset) throws IOException {
        ObjectStore store = new ObjectStore(
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), "finetune"));
        store.ensureBucket();
        Fixtures.baseModel(store, baseModel);
        Fixtures.sftDataset(store, dataset);
        return store;
    }

    /** Starts a worker named {@code name} and waits until it is ready; {@code env} adds to or overrides the defaults. */
    Worker start(String name, Map<String, String> env) throws IOException {
        return start(name, env, List.of("-Xmx1g", "-Dai.djl.pytorch.num_threads=1"));
    }

    /** As {@link #start(String, Map)}, with these JVM options (heap, PyTorch threads). */
    Worker start(String name, Map<String, String> env, List<String> jvmOptions) throws IOException {
        Path jar = Path.of("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " is missing: run in the integration-test phase");
        }
        int port = FreePorts.find();
        Path log = Files.createDirectories(Path.of("target/worker-logs")).resolve(name + ".log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(
                List.of("-Dai.djl.pytorch.num_interop_threads=1", "-Dai.djl.offline=true", "-jar", jar.toString()));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> environment = builder.environment();
        environment.put("QUARKUS_HTTP_PORT", String.valueOf(port));
        environment.put("KAFKA_BOOTSTRAP_SERVERS", stack.kafkaBootstrapServers());
        environment.put("PIPELINE_OBJECT_STORE_ENDPOINT", stack.s3Endpoint());
        environment.put("PIPELINE_OBJECT_STORE_ACCESS_KEY", stack.s3AccessKey());
        environment.put("PIPELINE_OBJECT_STORE_SECRET_KEY", stack.s3SecretKey());
        environment.put("PIPELINE_SECURITY_ENABLED", "false");
        environment.put("PIPELINE_TRAINING_WORKER_ID", name);
        environment.put(
                "PIPELINE_TRAINING_WORK_DIR", Files.createTempDirectory(name).toString());
        environment.put("PIPELINE_TRAINING_LEASE_TTL", "6s");
        // The broker's minimum: a dead worker's partition moves after 6 s instead of 45.
        environment.put("TRAINING_SESSION_TIMEOUT_MS", "6000");
        // A first job waits up to 30 s for the warm-up's 300 training steps; the tests that are not about
        // the warm-up skip it (WorkerPreemptionIT keeps it: a resumed job racing it was a real bug).
        environment.put("PIPELINE_TRAINING_WARMUP_TRAINING", "false");
        environment.putAll(env);
        Process process = builder.start();
        started.add(process);
        await().atMost(Duration.ofSeconds(60))
                .ignoreExceptions()
                .until(() -> given().port(port).get("/q/health/ready").statusCode() == 200);
        return new Worker(name, port, process);
    }

    @Override
    public void close() {
        started.forEach(Process::destroyForcibly);
    }
}
