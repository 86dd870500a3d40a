package dev.finetune.localstack;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.jboss.logging.Logger;

/**
 * A real single-node Apache Kafka broker in KRaft mode (combined broker + controller), running in
 * this JVM. It is the same server code a production cluster runs, not a fake: clients talk to it
 * over TCP on loopback.
 *
 * <p>Storage is formatted once; a broker started on a directory that already holds a formatted log
 * keeps its topics and records (the cluster id is read back from the directory).
 */
public final class KafkaBroker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KafkaBroker.class);
    private static final String CONTROLLER_LISTENER = "CONTROLLER";

    private final int port;
    private final int controllerPort;
    private final Path logDir;
    private KafkaRaftServer server;

    /**
     * @param port the client port (PLAINTEXT), 0 for a free one
     * @param controllerPort the KRaft controller port, 0 for a free one
     * @param logDir where the log and metadata live; created if missing
     */
    public KafkaBroker(int port, int controllerPort, Path logDir) {
        this.port = port == 0 ? FreePorts.find() : port;
        this.controllerPort = controllerPort == 0 ? FreePorts.find() : controllerPort;
        this.logDir = logDir;
    }

    /** Formats the storage if needed, starts the server and waits until the client port accepts. */
    public KafkaBroker start(Duration timeout) {
        if (server != null) {
            throw new IllegalStateException("Kafka broker already started on port " + port);
        }
        try {
            Files.createDirectories(logDir);
            Properties props = serverProperties();
            if (!Files.exists(logDir.resolve("meta.properties"))) {
                format(props);
            }
            server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
            server.startup();
            awaitPort(port, timeout);
            LOG.infof("Kafka broker (KRaft) listening on %s, data in %s", bootstrapServers(), logDir);
            return this;
        } catch (Exception e) {
            close();
            throw new LocalStackException("Kafka broker failed to start on port " + port + ": " + e.getMessage(), e);
        }
    }

    /** The {@code bootstrap.servers} value clients use. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    private Properties serverProperties() {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put(
                "listeners",
                "PLAINTEXT://127.0.0.1:" + port + "," + CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir.toAbsolutePath().toString());
        // One node: every internal topic can only have one replica.
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        // Tests and local runs start consumers one after another; waiting 3 s per join is wasted time.
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "true");
        // Large enough for a training job's metrics batch, small enough to catch runaway payloads.
        p.put("message.max.bytes", String.valueOf(8 * 1024 * 1024));
        return p;
    }

    private void format(Properties props) throws Exception {
        Formatter formatter = new Formatter()
                .setClusterId(Uuid.randomUuid().toString())
                .setNodeId(1)
                .setDirectories(java.util.List.of(logDir.toAbsolutePath().toString()))
                .setMetadataLogDirectory(logDir.toAbsolutePath().toString())
                .setControllerListenerName(CONTROLLER_LISTENER)
                .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        formatter.run();
    }

    static void awaitPort(int port, Duration timeout) throws IOException, InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                if (Instant.now().isAfter(deadline)) {
                    throw new IOException("nothing listens on 127.0.0.1:" + port + " after " + timeout, e);
                }
                Thread.sleep(50);
            }
        }
    }

    @Override
    public void close() {
        if (server == null) {
            return;
        }
        KafkaRaftServer s = server;
        server = null;
        s.shutdown();
        s.awaitShutdown();
        LOG.infof("Kafka broker on port %d stopped", port);
    }
}
