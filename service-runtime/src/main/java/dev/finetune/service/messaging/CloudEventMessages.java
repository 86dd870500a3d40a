package dev.finetune.service.messaging;

import dev.finetune.events.PipelineEvent;
import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Wraps a pipeline event into the Kafka message every service sends: a CloudEvent in binary mode
 * (type, source, subject, id, time as {@code ce_*} headers; the record as JSON data) whose Kafka key
 * is the event's subject, so all events about one dataset or job stay ordered on one partition.
 */
@ApplicationScoped
public class CloudEventMessages {
    private final URI source;

    CloudEventMessages(@ConfigProperty(name = "quarkus.application.name") String applicationName) {
        this.source = URI.create("/finetune/" + applicationName);
    }

    /** A message with a fresh CloudEvents id. */
    public <E extends PipelineEvent> Message<E> of(E event) {
        return of(event, UUID.randomUUID().toString());
    }

    /**
     * A message with the given CloudEvents id. Consumers drop a second event with the same id, so a
     * sender that may send the same fact twice (e.g. after a crash) derives the id from the fact.
     */
    public <E extends PipelineEvent> Message<E> of(E event, String eventId) {
        OutgoingCloudEventMetadata<E> cloudEvent = OutgoingCloudEventMetadata.<E>builder()
                .withId(eventId)
                .withType(event.cloudEventType())
                .withSource(source)
                .withSubject(event.cloudEventSubject())
                .withTimestamp(ZonedDateTime.now(ZoneOffset.UTC))
                .withDataContentType("application/json")
                .build();
        OutgoingKafkaRecordMetadata<String> kafka = OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(event.cloudEventSubject())
                .build();
        return Message.of(event).addMetadata(cloudEvent).addMetadata(kafka);
    }
}
