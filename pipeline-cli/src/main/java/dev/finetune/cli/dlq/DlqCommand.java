package dev.finetune.cli.dlq;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code finetune dlq ...}: what the services dead-lettered, and putting it back once fixed. */
@Command(
        name = "dlq",
        mixinStandardHelpOptions = true,
        header = "List, show and replay dead-lettered records (topics <topic>.dlq.<consumer>).")
public final class DlqCommand {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** A reason in the list is cut here; {@code show} prints it whole. */
    private static final int REASON_WIDTH = 80;

    @Option(
            scope = ScopeType.INHERIT,
            names = "--bootstrap-servers",
            paramLabel = "SERVERS",
            defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}",
            description = "Kafka (env KAFKA_BOOTSTRAP_SERVERS, default ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Spec
    CommandSpec spec;

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            header = "Every record of a dead-letter topic: partition, offset, time, reason, ce_type, key, size.")
    void list(@Parameters(paramLabel = "TOPIC") String topic) {
        try (DeadLetters topics = new DeadLetters(bootstrapServers)) {
            List<ConsumerRecord<byte[], byte[]>> records = topics.all(topic);
            PrintWriter out = out();
            out.printf(
                    "%-9s %-8s %-24s %-30s %8s  %-40s %s%n",
                    "PARTITION", "OFFSET", "TIMESTAMP", "KEY", "SIZE", "CE_TYPE", "REASON");
            for (ConsumerRecord<byte[], byte[]> r : records) {
                out.printf(
                        "%-9d %-8d %-24s %-30s %8d  %-40s %s%n",
                        r.partition(),
                        r.offset(),
                        Instant.ofEpochMilli(r.timestamp()),
                        r.key() == null ? "-" : Bytes.readable(r.key()),
                        r.value() == null ? 0 : r.value().length,
                        DeadLetters.header(r, "ce_type").orElse("-"),
                        cut(DeadLetters.header(r, DeadLetters.REASON).orElse("(no reason recorded)")));
            }
            out.println(records.size() + (records.size() == 1 ? " record" : " records") + " in " + topic);
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            header = "One dead-lettered record: its headers, and its value (pretty JSON, or escaped bytes).")
    void show(
            @Parameters(index = "0", paramLabel = "TOPIC") String topic,
            @Parameters(index = "1", paramLabel = "OFFSET") long offset,
            @Option(names = "--partition", defaultValue = "0", paramLabel = "N") int partition) {
        try (DeadLetters topics = new DeadLetters(bootstrapServers)) {
            ConsumerRecord<byte[], byte[]> r = topics.at(topic, partition, offset);
            PrintWriter out = out();
            out.println("topic:     " + topic + " partition " + r.partition() + " offset " + r.offset());
            out.println("timestamp: " + Instant.ofEpochMilli(r.timestamp()));
            out.println("key:       " + (r.key() == null ? "(none)" : Bytes.readable(r.key())));
            out.println("headers:");
            for (Header h : r.headers()) {
                out.println("  " + h.key() + ": " + (h.value() == null ? "(null)" : Bytes.readable(h.value())));
            }
            out.println("value (" + (r.value() == null ? 0 : r.value().length) + " bytes):");
            out.println(r.value() == null ? "(none)" : value(r.value()));
        }
    }

    @Command(
            name = "replay",
            mixinStandardHelpOptions = true,
            header = "Publishes dead-lettered records again to the topic they came from, with their original"
                    + " key, value and headers (the dead-letter headers removed); refuses them all if one lacks"
                    + " the CloudEvents headers or type its topic's consumers require.")
    void replay(
            @Parameters(index = "0", paramLabel = "TOPIC") String topic,
            @Parameters(index = "1..*", arity = "1..*", paramLabel = "OFFSET") List<Long> offsets,
            @Option(names = "--partition", defaultValue = "0", paramLabel = "N") int partition) {
        try (DeadLetters topics = new DeadLetters(bootstrapServers)) {
            // Every record is found, its source known and its headers acceptable there before
            // anything is published.
            List<ConsumerRecord<byte[], byte[]>> records =
                    offsets.stream().map(o -> topics.at(topic, partition, o)).toList();
            records.forEach(r -> DeadLetters.requireReplayable(topic, DeadLetters.sourceTopic(topic, r), r));
            for (ConsumerRecord<byte[], byte[]> r : records) {
                String source = DeadLetters.sourceTopic(topic, r);
                RecordMetadata sent = DeadLetters.replay(bootstrapServers, source, r);
                out().printf(
                                "replayed %s offset %d to %s (partition %d, offset %d)%n",
                                topic, r.offset(), source, sent.partition(), sent.offset());
            }
        }
    }

    private PrintWriter out() {
        return spec.commandLine().getOut();
    }

    private static String cut(String reason) {
        String line = reason.lines().findFirst().orElse("");
        return line.length() <= REASON_WIDTH ? line : line.substring(0, REASON_WIDTH - 1) + "…";
    }

    /** JSON pretty-printed; other text as it is; anything else as escaped bytes. */
    static String value(byte[] value) {
        try {
            return JSON.writeValueAsString(JSON.readTree(value));
        } catch (IOException notJson) {
            return Bytes.readable(value);
        }
    }

    /** Bytes for a terminal: valid UTF-8 text with its control characters escaped, else every byte escaped. */
    static final class Bytes {
        private Bytes() {}

        static String readable(byte[] bytes) {
            try {
                String text = StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes))
                        .toString();
                StringBuilder out = new StringBuilder();
                text.codePoints().forEach(c -> {
                    if (c == '\\') {
                        out.append("\\\\");
                    } else if (Character.isISOControl(c)) {
                        out.append(String.format("\\x%02x", c));
                    } else {
                        out.appendCodePoint(c);
                    }
                });
                return out.toString();
            } catch (CharacterCodingException notText) {
                StringBuilder out = new StringBuilder();
                for (byte b : bytes) {
                    int c = b & 0xff;
                    out.append(
                            c >= 0x20 && c < 0x7f && c != '\\'
                                    ? String.valueOf((char) c)
                                    : String.format("\\x%02x", c));
                }
                return out.toString();
            }
        }
    }
}
