package dev.finetune.service.testing;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Poison on every consumed topic of a packaged service, across a restart: on each topic, the three
 * kinds of poison ({@link PoisonRecords}) and a good record behind them, first against a running
 * process, then published while none runs and met by a restarted one. Each good record is handled
 * (its group commits past it), each poison record is dead-lettered exactly once (the restart reads
 * none of the first batch again, and no good record is dead-lettered), and liveness is UP.
 */
public final class PoisonAcrossRestart {
    /**
     * A consumed topic.
     *
     * @param validJson a good event keyed by the given key, that the consumer handles without
     *     dead-lettering it
     */
    public record Consumer(
            String topic, String deadLetterTopic, String group, String type, Function<String, String> validJson) {}

    private PoisonAcrossRestart() {}

    public static void check(PackagedService service, PoisonRecords topics, String name, List<Consumer> consumers)
            throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String before = "poison-before-" + suffix;
        String after = "poison-after-" + suffix;

        PackagedService.Instance first = service.start(name + "-1");
        awaitHandled(topics, consumers, poisonThenGood(topics, consumers, before));
        assertDeadLetteredOnce(topics, consumers, before, "the first poison");
        first.stop();

        List<RecordMetadata> good = poisonThenGood(topics, consumers, after); // while no process runs
        PackagedService.Instance second = service.start(name + "-2");
        awaitHandled(topics, consumers, good);
        assertDeadLetteredOnce(topics, consumers, after, "the poison published while the service was down");
        assertDeadLetteredOnce(topics, consumers, before, "the first poison, not read again after the restart");
        given().port(second.port()).get("/q/health/live").then().statusCode(200);
    }

    private static List<RecordMetadata> poisonThenGood(PoisonRecords topics, List<Consumer> consumers, String key)
            throws Exception {
        List<RecordMetadata> good = new ArrayList<>();
        for (Consumer c : consumers) {
            String json = c.validJson().apply(key);
            topics.publishPoison(c.topic(), key, c.type(), json);
            good.add(topics.publishEvent(c.topic(), key, c.type(), json));
        }
        return good;
    }

    private static void awaitHandled(PoisonRecords topics, List<Consumer> consumers, List<RecordMetadata> good) {
        for (int i = 0; i < consumers.size(); i++) {
            topics.awaitCommittedPast(consumers.get(i).group(), consumers.get(i).topic(), good.get(i));
        }
    }

    private static void assertDeadLetteredOnce(
            PoisonRecords topics, List<Consumer> consumers, String key, String what) {
        for (Consumer c : consumers) {
            assertThat(topics.deadLettered(c.deadLetterTopic(), c.topic(), key))
                    .as("%s: %s", c.topic(), what)
                    .hasSize(PoisonRecords.KINDS)
                    .allSatisfy(reason -> assertThat(reason).isNotBlank());
        }
    }
}
