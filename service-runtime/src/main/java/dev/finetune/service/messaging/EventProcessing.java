package dev.finetune.service.messaging;

import dev.finetune.errors.Retry;
import io.smallrye.reactive.messaging.ce.IncomingCloudEventMetadata;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * How every consumer handles an incoming event: run the work; retry transient failures (broker or
 * object store briefly away) with a bounded backoff; acknowledge on success; on a permanent failure
 * (bad data, a bug) negatively acknowledge, which sends the message to the channel's dead-letter
 * topic with the reason, and the consumer moves on. Handlers must be idempotent: a message can be
 * delivered again after a crash.
 */
public final class EventProcessing {
    private static final Logger LOG = Logger.getLogger(EventProcessing.class);
    /** 5 attempts over ~6 s ride out a broker leader election or an object-store restart. */
    public static final Retry TRANSIENT = new Retry("event handler", 5, Duration.ofMillis(400));

    /** The work done for one event. */
    @FunctionalInterface
    public interface Handler<T> {
        void handle(T event, String eventId) throws Exception;
    }

    private EventProcessing() {}

    public static <T> CompletionStage<Void> process(Message<T> message, Handler<T> handler) {
        String eventId = cloudEventId(message).orElse(null);
        try {
            TRANSIENT.call(() -> {
                handler.handle(message.getPayload(), eventId);
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

    /** The CloudEvents id of a message, if it is a CloudEvent. */
    public static Optional<String> cloudEventId(Message<?> message) {
        return message.getMetadata(IncomingCloudEventMetadata.class).map(IncomingCloudEventMetadata::getId);
    }
}
