package dev.finetune.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.commons.io.file.PathUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The pipeline's infrastructure on one machine: a real Kafka broker and a real S3 server, started
 * together. Used by tests (one per test JVM, see {@link SharedLocalStack}) and by people
 * ({@link LocalStackMain}).
 */
public final class LocalStack implements AutoCloseable {
    /** How long either server may take to come up; both normally need 1-5 s. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Options options;
    private final KafkaBroker kafka;
    private final S3Server s3;

    /**
     * What to start and where.
     *
     * @param kafkaPort Kafka client port, 0 for a free one
     * @param controllerPort KRaft controller port, 0 for a free one
     * @param s3Port S3 port, 0 for a free one
     * @param dataDir where Kafka logs ({@code kafka/}) and S3 objects ({@code s3/}) live
     * @param deleteDataOnClose whether {@link #close()} removes {@code dataDir}
     * @param accessKey the S3 access key id
     * @param secretKey the S3 secret key
     */
    public record Options(
            int kafkaPort,
            int controllerPort,
            int s3Port,
            Path dataDir,
            boolean deleteDataOnClose,
            String accessKey,
            String secretKey) {

        /** Free ports, a fresh temporary directory removed on close, fixed local-only credentials. */
        public static Options ephemeral() {
            try {
                return new Options(
                        0,
                        0,
                        0,
                        Files.createTempDirectory("local-stack-"),
                        true,
                        "local-access-key",
                        "local-secret-key");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a temporary directory", e);
            }
        }
    }

    private LocalStack(Options options) {
        this.options = options;
        this.kafka = new KafkaBroker(
                options.kafkaPort(), options.controllerPort(), options.dataDir().resolve("kafka"));
        this.s3 = new S3Server(
                options.s3Port(), options.dataDir().resolve("s3"), options.accessKey(), options.secretKey());
    }

    /** Starts both servers at once (they are independent) and returns when both serve. */
    public static LocalStack start(Options options) {
        LocalStack stack = new LocalStack(options);
        CompletableFuture<S3Server> s3 = CompletableFuture.supplyAsync(() -> stack.s3.start(START_TIMEOUT));
        try {
            stack.kafka.start(START_TIMEOUT);
            s3.join();
            return stack;
        } catch (RuntimeException e) {
            s3.handle((ok, failure) -> null).join();
            stack.close();
            throw e instanceof CompletionException && e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    /**
     * Stops the S3 server's process, as an outage of the object store would: connections are
     * refused until {@link #startS3()}. Stored objects stay on disk.
     */
    public void stopS3() {
        s3.close();
    }

    /** Starts the S3 server again on the same port, with the objects it had. */
    public void startS3() {
        s3.start(START_TIMEOUT);
    }

    /**
     * Shuts the Kafka broker down, as an outage of the broker would: clients get no answer on its
     * port until {@link #startKafka()}. Topics, records and committed offsets stay on disk.
     */
    public void stopKafka() {
        kafka.close();
    }

    /** Starts the Kafka broker again on the same ports, with the log it had. */
    public void startKafka() {
        kafka.start(START_TIMEOUT);
    }

    public String kafkaBootstrapServers() {
        return kafka.bootstrapServers();
    }

    public String s3Endpoint() {
        return s3.endpoint();
    }

    public String s3AccessKey() {
        return s3.accessKey();
    }

    public String s3SecretKey() {
        return s3.secretKey();
    }

    public Path dataDir() {
        return options.dataDir();
    }

    /**
     * The configuration a pipeline service needs to use this stack, as Quarkus/MicroProfile config
     * keys.
     */
    public Map<String, String> serviceConfig() {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("kafka.bootstrap.servers", kafkaBootstrapServers());
        config.put("pipeline.object-store.endpoint", s3Endpoint());
        config.put("pipeline.object-store.access-key", s3AccessKey());
        config.put("pipeline.object-store.secret-key", s3SecretKey());
        return config;
    }

    /** Creates the topics that do not exist yet, with the given partition counts. */
    public void createTopics(Map<String, Integer> partitionsByTopic) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrapServers());
        try (Admin admin = Admin.create(props)) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = partitionsByTopic.entrySet().stream()
                    .filter(e -> !existing.contains(e.getKey()))
                    .map(e -> new NewTopic(e.getKey(), e.getValue(), (short) 1))
                    .toList();
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new LocalStackException(
                        "creating topics " + partitionsByTopic.keySet() + " failed", e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalStackException("interrupted while creating topics", e);
        } catch (TimeoutException e) {
            throw new LocalStackException("creating topics " + partitionsByTopic.keySet() + " timed out", e);
        }
    }

    @Override
    public void close() {
        try (s3) {
            kafka.close();
        } finally {
            if (options.deleteDataOnClose()) {
                deleteRecursively(options.dataDir());
            }
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            PathUtils.delete(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
