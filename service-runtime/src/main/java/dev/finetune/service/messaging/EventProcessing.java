package dev.finetune.service.messaging;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.events.EventCatalog;
import dev.finetune.events.PipelineEvent;
import dev.finetune.service.retry.TransientRetry;
import dev.finetune.service.tracing.EventWork;
import dev.finetune.service.tracing.WorkContext;
import io.smallrye.reactive.messaging.ce.IncomingCloudEventMetadata;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * How every consumer handles an incoming event: run the work; retry transient failures (broker or
 * object store away) with backoff and jitter for the retry budget ({@link TransientRetry}); acknowledge on success; on a permanent failure
 * (bad data, a bug) negatively acknowledge, which sends the message to the channel's dead-letter
 * topic with the reason, and the consumer moves on. Handlers must be idempotent: a message can be
 * delivered again after a crash.
 *
 * <p>Poison never reaches a handler. A record whose value cannot be decoded is dead-lettered by the
 * connector itself ({@code fail-on-deserialization-failure=false} in the shared configuration); a
 * decoded record that is not a CloudEvent, has no value, or whose {@code ce_type} is not the type
 * of the event it decoded to is dead-lettered here, with the reason, before the handler runs.
 *
 * <p>The handler runs in the event's work context ({@link EventWork}): its log lines and the spans
 * it starts carry the dataset, job, model, evaluation or registry version the event is about.
 */
public final class EventProcessing {
    private static final Logger LOG = Logger.getLogger(EventProcessing.class);

    /** The work done for one event. */
    @FunctionalInterface
    public interface Handler<T> {
        void handle(T event, String eventId) throws Exception;
    }

    private EventProcessing() {}

    public static <T> CompletionStage<Void> process(Message<T> message, Handler<T> handler) {
        String eventId = cloudEventId(message).orElse(null);
        Optional<String> poison = poisonReason(message);
        if (poison.isPresent()) {
            LOG.warnf("record refused unread: %s", poison.get());
            return message.nack(new InvalidInputException(poison.get()));
        }
        T event = message.getPayload();
        // Opened before the try below, so the failure's log line carries the context too.
        try (WorkContext ignored = event instanceof PipelineEvent pipelineEvent
                ? EventWork.of(pipelineEvent).open()
                : WorkContext.builder().open()) {
            return handle(message, event, eventId, handler);
        }
    }

    private static <T> CompletionStage<Void> handle(Message<T> message, T event, String eventId, Handler<T> handler) {
        try {
            TransientRetry.call("event " + eventId, () -> {
                handler.handle(event, eventId);
                return null;
            });
            return message.ack();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return message.nack(e);
        } catch (VirtualMachineError e) {
            throw e; // the JVM itself is failing: nothing sensible is left to do here
        } catch (Exception | Error e) {
            // An Error from one event (a missing native library, a failed assertion) must not end
            // the channel's stream for every later event: it is dead-lettered like any failure.
            LOG.errorf(e, "event %s (%s) could not be processed: %s", eventId, message.getPayload(), e.getMessage());
            return message.nack(e);
        }
    }

    /** Why a decoded record is not an event the handler can take, or empty when it is one. */
    static Optional<String> poisonReason(Message<?> message) {
        Object payload = message.getPayload();
        if (payload == null) {
            return Optional.of("the record has no value");
        }
        IncomingCloudEventMetadata<?> cloudEvent =
                message.getMetadata(IncomingCloudEventMetadata.class).orElse(null);
        if (cloudEvent == null) {
            return Optional.of("the record is not a CloudEvent: it has no ce_specversion, ce_id, ce_type and"
                    + " ce_source headers");
        }
        if (payload instanceof PipelineEvent event && !event.cloudEventType().equals(cloudEvent.getType())) {
            String known = EventCatalog.ofType(cloudEvent.getType()).isPresent()
                    ? "another pipeline event"
                    : "not a pipeline event type";
            return Optional.of("ce_type '" + cloudEvent.getType() + "' (" + known + ") is not '"
                    + event.cloudEventType() + "', the type this channel takes");
        }
        return Optional.empty();
    }

    /** The CloudEvents id of a message, if it is a CloudEvent. */
    public static Optional<String> cloudEventId(Message<?> message) {
        return message.getMetadata(IncomingCloudEventMetadata.class).map(IncomingCloudEventMetadata::getId);
    }
}
