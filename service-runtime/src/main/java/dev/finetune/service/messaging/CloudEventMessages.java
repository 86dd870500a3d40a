package dev.finetune.service.messaging;

import dev.finetune.events.PipelineEvent;
import io.opentelemetry.context.Context;
import io.smallrye.reactive.messaging.TracingMetadata;
import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Wraps a pipeline event into the Kafka message every service sends: a CloudEvent in binary mode
 * (type, source, subject, id, time as {@code ce_*} headers; the record as JSON data) whose Kafka key
 * is the event's subject, so all events about one dataset or job stay ordered on one partition.
 */
@ApplicationScoped
public class CloudEventMessages {
    /** Past the connector's last resend, by this much, an unanswered send is taken as lost. */
    private static final Duration SEND_MARGIN = Duration.ofSeconds(30);

    private final URI source;
    /** How long a send can take before the connector gives up on it for good. */
    private final Duration sendTimeout;

    CloudEventMessages(
            @ConfigProperty(name = "quarkus.application.name") String applicationName,
            @ConfigProperty(name = "mp.messaging.connector.smallrye-kafka.delivery.timeout.ms", defaultValue = "120000")
                    long deliveryTimeoutMs) {
        this.source = URI.create("/finetune/" + applicationName);
        this.sendTimeout = sendTimeout(Duration.ofMillis(deliveryTimeoutMs));
    }

    /**
     * The producer retries a record for delivery.timeout.ms; after that SmallRye's sink sends it
     * again, with backoff, for another delivery.timeout.ms. Only then is the outcome final: a send
     * still unanswered after both may yet be delivered, so a caller that gave up earlier and sent
     * the event again published it twice (a broker outage of 30 s did exactly that).
     */
    private static Duration sendTimeout(Duration deliveryTimeout) {
        return deliveryTimeout.multipliedBy(2).plus(SEND_MARGIN);
    }

    /**
     * Sends {@code event} with the given id and waits for the broker's acknowledgement, so the
     * caller knows the event is durable before it records having sent it. It waits for the final
     * outcome ({@link #sendTimeout}): a failure means the event was not written, and sending it again
     * does not duplicate it.
     */
    public <E extends PipelineEvent> void sendAndAwait(Emitter<E> emitter, E event, String eventId) {
        try {
            send(emitter, event, eventId).get(sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing " + event.cloudEventType(), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(
                    "the broker did not acknowledge " + event.cloudEventType() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Sends {@code event} with the given id without waiting: the result completes when the broker
     * acknowledges it, or fails. For facts a newer one supersedes (progress), where the sender must
     * not wait on the broker.
     */
    public <E extends PipelineEvent> CompletableFuture<Void> send(Emitter<E> emitter, E event, String eventId) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        emitter.send(of(event, eventId)
                .withAck(() -> {
                    done.complete(null);
                    return done;
                })
                .withNack(failure -> {
                    done.completeExceptionally(failure);
                    return done;
                }));
        return done;
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
        // The producer span's parent is the context the event was made in, whichever thread the
        // connector sends it from: without this an emitter's send can start a trace of its own.
        TracingMetadata tracing = TracingMetadata.withCurrent(Context.current());
        return Message.of(event).addMetadata(cloudEvent).addMetadata(kafka).addMetadata(tracing);
    }
}
