package dev.finetune.service;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.EventCatalog;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.service.testing.EventTopics.RawRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * What every consumer of a service promises about poison records, run by each service's own
 * {@code @QuarkusTest} subclass against the real broker: on every incoming channel that has a
 * dead-letter topic, records that cannot be decoded (raw garbage, cut-off JSON, an unknown enum
 * code), records of an unknown CloudEvents type and records with no CloudEvents headers go to the
 * dead-letter topic with the reason, their offset, their original headers and their original bytes;
 * a valid record published right behind them is processed; the group's committed offset moves past
 * them (so a restarted consumer does not read them again); liveness stays UP.
 */
public abstract class PoisonRecordContractTest {
    private static final Pattern FAILURE_STRATEGY =
            Pattern.compile("mp\\.messaging\\.incoming\\.([^.]+)\\.failure-strategy");
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Valid events refused for their headers alone: dead-lettered as the service decoded them (the
     * dead-letter producer serialises the decoded event), other poison with its original bytes.
     */
    private static final Set<String> DECODED_THEN_REFUSED = Set.of("unknown-type", "no-cloudevent-headers");

    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String POISON_HEADER = "x-fault-test";
    /** Not UTF-8, not JSON: what a producer with the wrong serializer (or a bit flip) leaves. */
    private static final byte[] GARBAGE = {0, (byte) 0xff, (byte) 0xfe, 'n', 'o', 't', ' ', 'j', 's', 'o', 'n', '{'};

    /**
     * A record the channel's handler takes and acknowledges.
     *
     * @param json the event's JSON data
     * @param withUnknownEnum the same event with an enum field set to a code no version knows, or null
     *     when the event has no enum field
     */
    public record ValidEvent(String json, String withUnknownEnum) {}

    /** A valid event for {@code channel}; may store what its handler needs first. */
    protected abstract ValidEvent validEvent(String channel) throws Exception;

    /** An incoming channel with a dead-letter topic, as the service configures it. */
    record Consumer(String channel, String topic, String deadLetterTopic, String group, String type) {}

    static List<Consumer> consumers() {
        Config config = ConfigProvider.getConfig();
        List<Consumer> consumers = new ArrayList<>();
        for (String name : config.getPropertyNames()) {
            Matcher m = FAILURE_STRATEGY.matcher(name);
            if (m.matches() && "dead-letter-queue".equals(config.getValue(name, String.class))) {
                String prefix = "mp.messaging.incoming." + m.group(1) + ".";
                String topic = config.getValue(prefix + "topic", String.class);
                consumers.add(new Consumer(
                        m.group(1),
                        topic,
                        config.getValue(prefix + "dead-letter-queue.topic", String.class),
                        config.getValue(prefix + "group.id", String.class),
                        EventCatalog.ALL.stream()
                                .filter(e -> e.topic().equals(topic))
                                .findFirst()
                                .orElseThrow()
                                .type()));
            }
        }
        return consumers;
    }

    @Test
    void poisonRecordsAreDeadLetteredWithTheirReasonAndTheConsumerMovesOn() throws Exception {
        List<Consumer> consumers = consumers();
        assertThat(consumers).as("incoming channels with a dead-letter topic").isNotEmpty();
        for (Consumer consumer : consumers) {
            checkPoisonIsDeadLetteredAndTheNextRecordProcessed(consumer);
        }
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    private void checkPoisonIsDeadLetteredAndTheNextRecordProcessed(Consumer consumer) throws Exception {
        String key = "poison-" + consumer.channel() + "-"
                + UUID.randomUUID().toString().substring(0, 8);
        ValidEvent valid = validEvent(consumer.channel());
        byte[] validBytes = valid.json().getBytes(StandardCharsets.UTF_8);

        Map<String, Published> poison = new HashMap<>();
        poison.put("garbage", publish(consumer, key, "garbage", GARBAGE, consumer.type()));
        poison.put(
                "cut-off-json",
                publish(consumer, key, "cut-off-json", bytes("{\"datasetName\": [1, "), consumer.type()));
        poison.put("unknown-type", publish(consumer, key, "unknown-type", validBytes, "dev.finetune.no-such.event.v1"));
        poison.put("no-cloudevent-headers", publish(consumer, key, "no-cloudevent-headers", validBytes, null));
        if (valid.withUnknownEnum() != null) {
            poison.put(
                    "unknown-enum",
                    publish(consumer, key, "unknown-enum", bytes(valid.withUnknownEnum()), consumer.type()));
        }
        Published good = publish(consumer, key, "none", validBytes, consumer.type());

        List<RawRecord> dead = EventTopics.readRaw(consumer.deadLetterTopic(), key, poison.size(), WAIT);
        assertThat(dead)
                .as(
                        "%s: the dead-letter topic %s holds the poison and nothing else",
                        consumer.channel(), consumer.deadLetterTopic())
                .extracting(r -> r.header(POISON_HEADER))
                .containsExactlyInAnyOrderElementsOf(poison.keySet());
        for (RawRecord record : dead) {
            String kind = record.header(POISON_HEADER);
            Published sent = poison.get(kind);
            String what = consumer.channel() + " " + kind;
            assertThat(record.header("dead-letter-topic")).as(what).isEqualTo(consumer.topic());
            assertThat(record.header("dead-letter-offset")).as(what).isEqualTo(Long.toString(sent.offset()));
            if (DECODED_THEN_REFUSED.contains(kind)) {
                // Decoded, then refused: the event as the service read it, every original field kept.
                JsonNode original = JSON.readTree(sent.value());
                JsonNode deadLettered = JSON.readTree(record.value());
                original.fieldNames().forEachRemaining(field -> assertThat(deadLettered.get(field))
                        .as(what + ": field " + field)
                        .isEqualTo(original.get(field)));
            } else {
                assertThat(record.value()).as(what + ": the original bytes").isEqualTo(sent.value());
            }
            assertThat(record.header("dead-letter-reason")).as(what).isNotBlank();
            if (sent.type() != null) {
                assertThat(record.header("ce_id"))
                        .as(what + ": the original headers")
                        .isEqualTo(sent.ceId());
            }
        }
        assertThat(reasonOf(dead, "unknown-type"))
                .contains("ce_type 'dev.finetune.no-such.event.v1' (not a pipeline event type) is not '"
                        + consumer.type() + "'");
        assertThat(reasonOf(dead, "no-cloudevent-headers")).contains("not a CloudEvent");

        // The valid record behind the poison is processed: acknowledged (the group commits past it)
        // without being dead-lettered. A restarted consumer resumes after all of them.
        await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> assertThat(
                        EventTopics.committedOffset(consumer.group(), consumer.topic(), good.partition()))
                .as("%s: the offset %s commits", consumer.channel(), consumer.group())
                .isGreaterThan(good.offset()));
        assertThat(EventTopics.readRaw(consumer.deadLetterTopic(), key, poison.size(), Duration.ofSeconds(1)))
                .as("%s: the valid record is not dead-lettered", consumer.channel())
                .hasSize(poison.size());
    }

    private static String reasonOf(List<RawRecord> dead, String kind) {
        return dead.stream()
                .filter(r -> kind.equals(r.header(POISON_HEADER)))
                .findFirst()
                .orElseThrow()
                .header("dead-letter-reason");
    }

    /** A record as sent: where it landed, its bytes, and its CloudEvents type and id (null: no CE headers). */
    private record Published(int partition, long offset, byte[] value, String type, String ceId) {}

    private static Published publish(Consumer consumer, String key, String kind, byte[] value, String type)
            throws Exception {
        String ceId = UUID.randomUUID().toString();
        Map<String, String> headers = new HashMap<>();
        if (type != null) {
            headers.putAll(EventTopics.cloudEventHeaders(ceId, type, key));
        }
        headers.put(POISON_HEADER, kind);
        RecordMetadata landed = EventTopics.publishRaw(consumer.topic(), key, value, headers);
        return new Published(landed.partition(), landed.offset(), value, type, type == null ? null : ceId);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
