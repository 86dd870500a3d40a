package dev.finetune.cli.run;

import dev.finetune.cli.http.Services;
import dev.finetune.cli.trace.OtlpTraceReceiver;
import dev.finetune.events.Topics;
import dev.finetune.localstack.LocalStack;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * The whole pipeline on one machine, nothing mocked: the local stack (a real Kafka broker and a real
 * S3 server), an OTLP receiver for the services' spans, and the four packaged services as child
 * processes configured against them (production profile, API keys on). Closing it stops everything
 * it started, services first.
 */
public final class LocalPipeline implements AutoCloseable {
    public static final String BUCKET = "finetune";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    /**
     * @param home the repository root (the services' packaged jars are under it)
     * @param workDir logs and the services' work directories
     * @param apiKey the key every service accepts and the CLI presents
     * @param serviceEnv extra configuration per service name (environment variable form)
     */
    public record Options(Path home, Path workDir, String apiKey, Map<String, Map<String, String>> serviceEnv) {}

    private final LocalStack stack;
    private final OtlpTraceReceiver traces;
    private final List<ServiceProcess> processes;
    private final ObjectStore store;
    private final Services services;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private LocalPipeline(
            LocalStack stack,
            OtlpTraceReceiver traces,
            List<ServiceProcess> processes,
            ObjectStore store,
            String apiKey) {
        this.stack = stack;
        this.traces = traces;
        this.processes = processes;
        this.store = store;
        this.services = Services.at(
                processes.get(0).url(),
                processes.get(1).url(),
                processes.get(2).url(),
                processes.get(3).url(),
                apiKey);
    }

    /** Starts the stack, then the four services at once, and returns when every one is ready. */
    public static LocalPipeline start(Options options, Consumer<String> progress)
            throws IOException, InterruptedException {
        LocalStack stack = LocalStack.start(LocalStack.Options.ephemeral());
        OtlpTraceReceiver traces = null;
        List<ServiceProcess> processes = new ArrayList<>();
        try {
            progress.accept("local stack: Kafka " + stack.kafkaBootstrapServers() + ", S3 " + stack.s3Endpoint());
            // Topics up front with a few partitions each, as deploy/ declares them.
            Map<String, Integer> topics = new LinkedHashMap<>();
            Topics.ALL.forEach(topic -> topics.put(topic, 3));
            stack.createTopics(topics);
            traces = OtlpTraceReceiver.start();
            ObjectStore store = new ObjectStore(
                    ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), BUCKET));
            store.ensureBucket();
            for (ServiceSpec spec : ServiceSpec.ALL) {
                Map<String, String> env = commonEnv(stack, traces, options);
                env.putAll(spec.env(options.workDir()));
                Files.createDirectories(spec.workDir(options.workDir()));
                env.putAll(options.serviceEnv().getOrDefault(spec.name(), Map.of()));
                processes.add(ServiceProcess.start(
                        spec.name(),
                        options.home().resolve(spec.name()).resolve("target/quarkus-app/quarkus-run.jar"),
                        freePort(),
                        spec.heap(),
                        spec.torchThreads(),
                        env,
                        options.workDir().resolve("logs").resolve(spec.name() + ".log")));
            }
            List<CompletableFuture<Void>> ready = processes.stream()
                    .map(p -> CompletableFuture.runAsync(() -> awaitReady(p)))
                    .toList();
            for (int i = 0; i < ready.size(); i++) {
                ready.get(i).join();
                progress.accept(processes.get(i).name() + " ready at "
                        + processes.get(i).url() + " (log: " + processes.get(i).log() + ")");
            }
            return new LocalPipeline(stack, traces, processes, store, options.apiKey());
        } catch (RuntimeException | IOException e) {
            processes.forEach(ServiceProcess::close);
            if (traces != null) {
                traces.close();
            }
            stack.close();
            if (e instanceof CompletionException && e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    private static Map<String, String> commonEnv(LocalStack stack, OtlpTraceReceiver traces, Options options) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", stack.kafkaBootstrapServers());
        env.put("PIPELINE_OBJECT_STORE_ENDPOINT", stack.s3Endpoint());
        env.put("PIPELINE_OBJECT_STORE_ACCESS_KEY", stack.s3AccessKey());
        env.put("PIPELINE_OBJECT_STORE_SECRET_KEY", stack.s3SecretKey());
        env.put("PIPELINE_OBJECT_STORE_BUCKET", BUCKET);
        env.put("PIPELINE_SECURITY_ENABLED", "true");
        env.put("PIPELINE_SECURITY_API_KEYS", "finetune-cli:" + options.apiKey());
        env.put("OTEL_EXPORTER_OTLP_ENDPOINT", traces.endpoint());
        env.put("QUARKUS_OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf");
        // Spans leave each service within a second of ending, so the trace is complete when the run ends.
        env.put("QUARKUS_OTEL_BSP_SCHEDULE_DELAY", "500ms");
        return env;
    }

    private static void awaitReady(ServiceProcess process) {
        try {
            process.awaitReady(READY_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + process.name(), e);
        }
    }

    public Services services() {
        return services;
    }

    public ObjectStore store() {
        return store;
    }

    public LocalStack stack() {
        return stack;
    }

    public OtlpTraceReceiver traces() {
        return traces;
    }

    /** The last lines of each service's log, for a failure report. */
    public String logTails(int lines) {
        StringBuilder out = new StringBuilder();
        for (ServiceProcess p : processes) {
            out.append("--- ").append(p.name()).append(" (").append(p.log()).append(")\n");
            out.append(p.tail(lines)).append('\n');
        }
        return out.toString();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        processes.parallelStream().forEach(ServiceProcess::close);
        traces.close();
        try {
            store.close();
        } catch (Exception e) {
            // closing the client's connection pool; nothing is lost
        }
        stack.close();
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }
}
