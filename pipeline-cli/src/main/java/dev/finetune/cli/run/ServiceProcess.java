package dev.finetune.cli.run;

import dev.finetune.llm.memory.NativeAllocator;
import dev.finetune.localstack.ParentWatchdog;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One packaged pipeline service ({@code <service>/target/quarkus-app/quarkus-run.jar}) running as a
 * child process with its log in a file. It runs under the local stack's {@link ParentWatchdog}, so it
 * exits when this JVM does, even on {@code kill -9}: a run never leaves services holding ports.
 */
final class ServiceProcess implements AutoCloseable {
    private static final String QUARKUS_MAIN = "io.quarkus.bootstrap.runner.QuarkusEntryPoint";

    private final String name;
    private final int port;
    private final Path log;
    private final Process process;

    private ServiceProcess(String name, int port, Path log, Process process) {
        this.name = name;
        this.port = port;
        this.log = log;
        this.process = process;
    }

    /**
     * @param jar the service's quarkus-run.jar
     * @param heap maximum heap, e.g. {@code 1g}
     * @param torchThreads PyTorch intra-op threads for the services that run models
     * @param env configuration (environment variables) on top of this process's environment
     */
    static ServiceProcess start(
            String name, Path jar, int port, String heap, int torchThreads, Map<String, String> env, Path log)
            throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(
                    jar + " is missing: build the services first (./mvnw -B install -DskipTests)");
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap,
                // The whole heap from the start: a worker's first job measured 1-2 s slower while its heap
                // grew (docs/benchmarks.md, reporting overhead); the heap is this process's either way.
                "-Xms" + heap,
                "-XX:+ExitOnOutOfMemoryError",
                // What the jar's manifest asks for when started with -jar.
                "--add-opens",
                "java.base/java.lang=ALL-UNNAMED",
                "-Dai.djl.pytorch.num_threads=" + torchThreads,
                "-Dai.djl.pytorch.num_interop_threads=1",
                "-Dai.djl.offline=true",
                "-cp",
                ParentWatchdog.codeLocation() + java.io.File.pathSeparator + jar,
                ParentWatchdog.class.getName(),
                QUARKUS_MAIN));
        Files.createDirectories(log.getParent());
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // The allocator the service images preload (llm's NativeAllocator), when this machine has it and
        // the caller chose none: the memory estimates assume its footprint.
        NativeAllocator.installed().ifPresent(library -> NativeAllocator.environment(library.toString())
                .forEach(builder.environment()::putIfAbsent));
        builder.environment().putAll(env);
        // Loopback only, and the production profile whatever the caller's environment says.
        builder.environment().put("QUARKUS_PROFILE", "prod");
        builder.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
        builder.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        return new ServiceProcess(name, port, log, builder.start());
    }

    String name() {
        return name;
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    Path log() {
        return log;
    }

    /** Waits until {@code /q/health/ready} answers 200 (broker and object store reachable). */
    void awaitReady(Duration timeout) throws InterruptedException {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(url().resolve("q/health/ready"))
                .timeout(Duration.ofSeconds(5))
                .build();
        Instant deadline = Instant.now().plus(timeout);
        String last = "no answer";
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with code " + process.exitValue() + " while starting; "
                        + "its log (" + log + ") ends:\n" + tail(20));
            }
            try {
                HttpResponse<String> response = http.send(ready, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = response.statusCode() + " " + response.body();
            } catch (IOException e) {
                last = String.valueOf(e.getMessage());
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException(
                name + " was not ready after " + timeout.toSeconds() + " s (last answer: " + last + "); log: " + log);
    }

    /** The last {@code lines} lines of the service's log. */
    String tail(int lines) {
        try {
            // Lenient decoding: a log may hold bytes of any encoding.
            List<String> all =
                    List.of(new String(Files.readAllBytes(log), java.nio.charset.StandardCharsets.UTF_8).split("\n"));
            return String.join(
                    "\n",
                    all.subList(Math.max(0, all.size() - lines), all.size()).stream()
                            .map(LogLine::readable)
                            .toList());
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /**
     * Asks the service to stop (SIGTERM: Quarkus shuts down gracefully, finishing or nacking what it
     * is processing), then kills it after 30 s (what Kubernetes allows by default). The signal goes to the process handle, which leaves
     * its stdin open: closing stdin first would make the watchdog halt it mid-shutdown.
     */
    @Override
    public void close() {
        try {
            process.toHandle().destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            try {
                process.getOutputStream().close();
            } catch (IOException e) {
                // the child is gone; its end of the pipe with it
            }
        }
    }
}
