package dev.finetune.service.testing;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import dev.finetune.localstack.FreePorts;
import dev.finetune.localstack.LocalStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The module's packaged service ({@code target/quarkus-app/quarkus-run.jar}) run as processes
 * against a local stack, for integration tests that stop a service and start it again. Security
 * off; each process gets its own port and a log under {@code target/service-logs/}; {@link #close}
 * kills whatever still runs.
 */
public final class PackagedService implements AutoCloseable {
    /** One running process of the service. */
    public record Instance(String name, int port, Process process) {
        /** Stops it as a rollout does (SIGTERM, a graceful shutdown) and waits until it has exited. */
        public void stop() throws InterruptedException {
            process.destroy();
            process.waitFor();
        }
    }

    private final LocalStack stack;
    private final Map<String, String> env;
    private final List<Process> started = new ArrayList<>();

    /** @param env added to the stack's addresses and credentials in every process's environment */
    public PackagedService(LocalStack stack, Map<String, String> env) {
        this.stack = stack;
        this.env = Map.copyOf(env);
    }

    /** Starts a process named {@code name} and waits until it is ready. */
    public Instance start(String name) throws IOException {
        Path jar = Path.of("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " is missing: run in the integration-test phase");
        }
        int port = FreePorts.find();
        Path log = Files.createDirectories(Path.of("target/service-logs")).resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx768m",
                        "-Dai.djl.pytorch.num_threads=1",
                        "-Dai.djl.offline=true",
                        "-jar",
                        jar.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> environment = builder.environment();
        environment.put("QUARKUS_HTTP_PORT", String.valueOf(port));
        environment.put("KAFKA_BOOTSTRAP_SERVERS", stack.kafkaBootstrapServers());
        environment.put("PIPELINE_OBJECT_STORE_ENDPOINT", stack.s3Endpoint());
        environment.put("PIPELINE_OBJECT_STORE_ACCESS_KEY", stack.s3AccessKey());
        environment.put("PIPELINE_OBJECT_STORE_SECRET_KEY", stack.s3SecretKey());
        environment.put("PIPELINE_SECURITY_ENABLED", "false");
        environment.putAll(env);
        Process process = builder.start();
        started.add(process);
        await().atMost(Duration.ofSeconds(90))
                .ignoreExceptions()
                .until(() -> given().port(port).get("/q/health/ready").statusCode() == 200);
        return new Instance(name, port, process);
    }

    @Override
    public void close() {
        started.forEach(Process::destroyForcibly);
    }
}
