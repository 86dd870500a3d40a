package dev.finetune.cli.run;

import dev.finetune.cli.http.Services;
import dev.finetune.cli.trace.OtlpTraceReceiver;
import dev.finetune.events.Topics;
import dev.finetune.localstack.FreePorts;
import dev.finetune.localstack.LocalStack;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import java.io.IOException;
import java.net.URI;
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
 * processes configured against them (production profile, API keys on), and the web console against
 * those. {@link #close()} stops
 * everything started so far, services first; it may be called from a shutdown hook while
 * {@link #start} is still under way, and a second caller waits for the first to finish.
 */
public final class LocalPipeline implements AutoCloseable {
    public static final String BUCKET = "finetune";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    /**
     * @param home the repository root (the services' packaged jars are under it)
     * @param workDir logs, the services' work directories and the stack's data
     * @param apiKey the key every service accepts (with the admin role) and the CLI presents
     * @param serviceEnv extra configuration per service name (environment variable form)
     */
    public record Options(Path home, Path workDir, String apiKey, Map<String, Map<String, String>> serviceEnv) {}

    private final Options options;
    private final List<ServiceProcess> processes = new ArrayList<>();
    private LocalStack stack;
    private OtlpTraceReceiver traces;
    private ObjectStore store;
    private Services services;
    private ServiceProcess console;
    private boolean closed;

    public LocalPipeline(Options options) {
        this.options = options;
    }

    /** Checks that the services and the console are built, before anything is started. */
    public static void requireBuilt(Path home) {
        List<ServiceSpec> all = new ArrayList<>(ServiceSpec.ALL);
        all.add(ServiceSpec.CONSOLE);
        for (ServiceSpec spec : all) {
            Path jar = spec.jar(home);
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException(
                        jar + " is missing: build the services first (./mvnw -B package -DskipTests)");
            }
        }
    }

    /**
     * Starts the stack, then the four services at once, then the console against them, and returns
     * when every one is ready.
     */
    public LocalPipeline start(Consumer<String> progress) throws IOException {
        requireBuilt(options.home());
        LocalStack startedStack = LocalStack.start(new LocalStack.Options(
                0, 0, 0, options.workDir().resolve("stack"), true, "local-access-key", "local-secret-key"));
        synchronized (this) {
            if (closed) {
                startedStack.close();
                throw new IllegalStateException("stopped while starting");
            }
            stack = startedStack;
            progress.accept("local stack: Kafka " + stack.kafkaBootstrapServers() + ", S3 " + stack.s3Endpoint());
            // Topics up front with a few partitions each, as deploy/ declares them.
            Map<String, Integer> topics = new LinkedHashMap<>();
            Topics.ALL.forEach(topic -> topics.put(topic, 3));
            stack.createTopics(topics);
            traces = OtlpTraceReceiver.start();
            store = new ObjectStore(
                    ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), BUCKET));
            store.ensureBucket();
            for (ServiceSpec spec : ServiceSpec.ALL) {
                Map<String, String> env = commonEnv();
                env.putAll(spec.env(options.workDir()));
                env.putAll(options.serviceEnv().getOrDefault(spec.name(), Map.of()));
                Files.createDirectories(spec.workDir(options.workDir()));
                processes.add(ServiceProcess.start(
                        spec.name(),
                        spec.jar(options.home()),
                        FreePorts.find(),
                        spec.heap(),
                        spec.torchThreads(),
                        env,
                        options.workDir().resolve("logs").resolve(spec.name() + ".log")));
            }
        }
        awaitReady(progress);
        services = Services.at(
                processes.get(0).url(),
                processes.get(1).url(),
                processes.get(2).url(),
                processes.get(3).url(),
                options.apiKey());
        startConsole(progress);
        return this;
    }

    /** The console, pointed at the four services; a user signs in with any key they accept. */
    private synchronized void startConsole(Consumer<String> progress) throws IOException {
        if (closed) {
            throw new IllegalStateException("stopped while starting");
        }
        ServiceSpec spec = ServiceSpec.CONSOLE;
        Map<String, String> env = new LinkedHashMap<>(spec.settings());
        env.put("CONSOLE_DATASET_URL", processes.get(0).url().toString());
        env.put("CONSOLE_TRAINING_URL", processes.get(1).url().toString());
        env.put("CONSOLE_EVAL_URL", processes.get(2).url().toString());
        env.put("CONSOLE_REGISTRY_URL", processes.get(3).url().toString());
        env.putAll(options.serviceEnv().getOrDefault(spec.name(), Map.of()));
        console = ServiceProcess.start(
                spec.name(),
                spec.jar(options.home()),
                FreePorts.find(),
                spec.heap(),
                spec.torchThreads(),
                env,
                options.workDir().resolve("logs").resolve(spec.name() + ".log"));
        processes.add(console);
        awaitReady(console);
        progress.accept("console ready at " + console.url() + " (log: " + console.log() + ")");
    }

    /** Where the web console answers. */
    public URI consoleUrl() {
        return console.url();
    }

    /** Waits for all four at once; every wait is joined, the first failure is the one reported. */
    private void awaitReady(Consumer<String> progress) {
        List<CompletableFuture<Void>> ready = processes.stream()
                .map(p -> CompletableFuture.runAsync(() -> awaitReady(p)))
                .toList();
        RuntimeException first = null;
        for (int i = 0; i < ready.size(); i++) {
            try {
                ready.get(i).join();
                ServiceProcess p = processes.get(i);
                progress.accept(p.name() + " ready at " + p.url() + " (log: " + p.log() + ")");
            } catch (CompletionException e) {
                RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : e;
                if (first == null) {
                    first = cause;
                } else {
                    first.addSuppressed(cause);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private Map<String, String> commonEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", stack.kafkaBootstrapServers());
        env.put("PIPELINE_OBJECT_STORE_ENDPOINT", stack.s3Endpoint());
        env.put("PIPELINE_OBJECT_STORE_ACCESS_KEY", stack.s3AccessKey());
        env.put("PIPELINE_OBJECT_STORE_SECRET_KEY", stack.s3SecretKey());
        env.put("PIPELINE_OBJECT_STORE_BUCKET", BUCKET);
        env.put("PIPELINE_SECURITY_ENABLED", "true");
        // The run uploads, trains and promotes, so its one key has the role that may do all of it.
        env.put("PIPELINE_SECURITY_API_KEYS", "finetune-cli:admin:" + options.apiKey());
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
    public synchronized String logTails(int lines) {
        StringBuilder out = new StringBuilder();
        for (ServiceProcess p : processes) {
            out.append("--- ").append(p.name()).append(" (").append(p.log()).append(")\n");
            out.append(p.tail(lines)).append('\n');
        }
        return out.toString();
    }

    /**
     * Stops the services (in parallel), the receiver and the stack, and deletes the stack's data.
     * Every part is stopped even if another fails; the first failure is thrown with the others
     * suppressed.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Exception> failures = new ArrayList<>();
        processes.parallelStream().forEach(ServiceProcess::close);
        closeQuietly(traces, failures);
        closeQuietly(store, failures);
        closeQuietly(stack, failures);
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException(
                    "stopping the local pipeline: " + failures.get(0).getMessage());
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable closeable, List<Exception> failures) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            failures.add(e);
        }
    }
}
