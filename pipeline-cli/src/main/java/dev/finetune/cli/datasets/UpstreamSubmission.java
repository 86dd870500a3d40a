package dev.finetune.cli.datasets;

import dev.finetune.events.DatasetFormat;
import dev.finetune.events.DatasetSubmitted;
import dev.finetune.events.EventJson;
import dev.finetune.events.Topics;
import dev.finetune.storage.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * What an upstream system does to hand the pipeline a dataset: write the file to its own bucket,
 * then publish a {@code datasets.submitted} CloudEvent (Kafka binary mode) naming the object and its
 * SHA-256. The event starts a new trace (a W3C {@code traceparent} header) that every later hop
 * continues, so the whole run is one trace.
 */
public final class UpstreamSubmission {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    /**
     * @param eventId the CloudEvents id (re-publishing the same id changes nothing)
     * @param objectUri where the bytes were written
     * @param sha256 their SHA-256
     * @param traceId the trace the event starts
     */
    public record Submitted(String eventId, URI objectUri, String sha256, String traceId) {}

    private UpstreamSubmission() {}

    /** Stores {@code file} under {@code key} in {@code store}'s bucket and publishes the event. */
    public static Submitted submit(
            ObjectStore store,
            String key,
            Path file,
            String datasetName,
            DatasetFormat format,
            Map<String, String> labels,
            String bootstrapServers) {
        // The store hashes what it uploads: the event names the SHA-256 of exactly the stored bytes.
        String sha256 = store.putFile(key, file, "application/jsonl").sha256();
        URI uri = URI.create("s3://" + store.bucket() + "/" + key);
        DatasetSubmitted event = new DatasetSubmitted(datasetName, null, uri, format, sha256, labels, Instant.now());
        return publish(event, bootstrapServers);
    }

    /** Publishes {@code event} on {@code datasets.submitted} under a new trace. */
    public static Submitted publish(DatasetSubmitted event, String bootstrapServers) {
        String eventId = UUID.randomUUID().toString();
        String traceId = randomHex(16);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        // Delivered or failed within the wait below: a "failed" publish is never delivered later.
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 50_000);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(
                    Topics.DATASETS_SUBMITTED,
                    event.cloudEventSubject(),
                    EventJson.mapper().writeValueAsBytes(event));
            header(record, "ce_specversion", "1.0");
            header(record, "ce_id", eventId);
            header(record, "ce_type", DatasetSubmitted.TYPE);
            header(record, "ce_source", "/finetune/cli");
            header(record, "ce_subject", event.cloudEventSubject());
            header(record, "ce_time", event.submittedAt().toString());
            header(record, "content-type", "application/json");
            header(record, "traceparent", "00-" + traceId + "-" + randomHex(8) + "-01");
            producer.send(record).get(60, TimeUnit.SECONDS);
            producer.close(java.time.Duration.ofSeconds(10));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the event as JSON", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(
                    "cannot publish to " + Topics.DATASETS_SUBMITTED + " at " + bootstrapServers + ": "
                            + e.getMessage(),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing", e);
        }
        return new Submitted(eventId, event.objectUri(), event.sha256(), traceId);
    }

    private static void header(ProducerRecord<String, byte[]> record, String name, String value) {
        record.headers().add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    private static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HEX.formatHex(b);
    }
}
