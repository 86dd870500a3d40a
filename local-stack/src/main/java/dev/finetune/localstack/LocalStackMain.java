package dev.finetune.localstack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the local stack for people: Kafka on 127.0.0.1:9092 and S3 on 127.0.0.1:9000 until Ctrl-C.
 *
 * <pre>
 * bin/local-stack [--kafka-port 9092] [--s3-port 9000] [--data-dir DIR] [--topic name:partitions]...
 * </pre>
 */
@Command(
        name = "local-stack",
        mixinStandardHelpOptions = true,
        description = "Starts a real Kafka broker (KRaft) and a real S3 server (s3proxy) on loopback until Ctrl-C.")
public final class LocalStackMain implements Callable<Integer> {

    @Option(
            names = "--kafka-port",
            defaultValue = "9092",
            description = "Kafka client port (default: ${DEFAULT-VALUE}).")
    int kafkaPort;

    @Option(
            names = "--controller-port",
            defaultValue = "9093",
            description = "KRaft controller port (default: ${DEFAULT-VALUE}).")
    int controllerPort;

    @Option(names = "--s3-port", defaultValue = "9000", description = "S3 port (default: ${DEFAULT-VALUE}).")
    int s3Port;

    @Option(
            names = "--data-dir",
            description = "Keep Kafka logs and S3 objects in DIR across restarts. Without it, a temporary "
                    + "directory is used and removed on exit.")
    Path dataDir;

    @Option(
            names = "--access-key",
            defaultValue = "${env:LOCALSTACK_ACCESS_KEY:-minioadmin}",
            description = "S3 access key (env LOCALSTACK_ACCESS_KEY; default: minioadmin, like MinIO's).")
    String accessKey;

    @Option(
            names = "--secret-key",
            defaultValue = "${env:LOCALSTACK_SECRET_KEY:-minioadmin}",
            description = "S3 secret key (env LOCALSTACK_SECRET_KEY; default: minioadmin).")
    String secretKey;

    @Option(
            names = "--topic",
            paramLabel = "NAME[:PARTITIONS]",
            description =
                    "A topic to create if missing (repeatable). Others are created on first use with 1 partition.")
    List<String> topics = List.of();

    @Override
    public Integer call() throws Exception {
        Map<String, Integer> topicPartitions = parseTopics(topics);
        boolean ephemeral = dataDir == null;
        Path dir = ephemeral ? Files.createTempDirectory("local-stack-") : dataDir.toAbsolutePath();
        LocalStack.Options options =
                new LocalStack.Options(kafkaPort, controllerPort, s3Port, dir, ephemeral, accessKey, secretKey);
        long started = System.nanoTime();
        LocalStack stack = LocalStack.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            System.out.println("local-stack: stopping");
                            stack.close();
                            stopped.countDown();
                        },
                        "local-stack-shutdown"));
        if (!topicPartitions.isEmpty()) {
            stack.createTopics(topicPartitions);
        }
        System.out.printf(
                "local-stack: ready in %.1f s%n  kafka  %s%n  s3     %s (access key %s)%n  data   %s%s%n"
                        + "Ctrl-C stops both.%n",
                (System.nanoTime() - started) / 1e9,
                stack.kafkaBootstrapServers(),
                stack.s3Endpoint(),
                accessKey,
                dir,
                ephemeral ? " (removed on exit)" : " (kept)");
        stopped.await();
        return 0;
    }

    static Map<String, Integer> parseTopics(List<String> specs) {
        Map<String, Integer> result = new LinkedHashMap<>();
        for (String spec : specs) {
            String[] parts = spec.split(":", 2);
            int partitions;
            try {
                partitions = parts.length == 2 ? Integer.parseInt(parts[1]) : 1;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--topic " + spec + ": partitions must be a positive integer");
            }
            if (parts[0].isBlank() || partitions < 1) {
                throw new IllegalArgumentException("--topic " + spec + ": expected NAME or NAME:PARTITIONS (>= 1)");
            }
            result.put(parts[0], partitions);
        }
        return result;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new LocalStackMain()).execute(args));
    }
}
