package dev.finetune.service.diagnostics;

import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Sends a probe record through the broker and waits for this same instance to consume it: proof
 * that producing, consuming and trace propagation work end to end from where the service runs. Each
 * instance consumes the diagnostics topic in a consumer group of its own (see the
 * {@code diagnostics-in} channel's {@code group.id}), so it always sees its own probes.
 */
@ApplicationScoped
public class KafkaRoundTrip {
    public static final String TOPIC = "pipeline.diagnostics";

    private final Emitter<String> probes;
    private final Map<String, CompletableFuture<Long>> pending = new ConcurrentHashMap<>();

    KafkaRoundTrip(@Channel("diagnostics-out") Emitter<String> probes) {
        this.probes = probes;
    }

    /**
     * Sends one probe; the future completes with the round trip in nanoseconds, or fails after
     * {@code timeout}.
     */
    public CompletableFuture<Long> probe(Duration timeout) {
        String id = UUID.randomUUID().toString();
        long sent = System.nanoTime();
        CompletableFuture<Long> received = new CompletableFuture<>();
        pending.put(id, received);
        probes.send(Message.of(id)
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                        .withKey(id)
                        .build())
                .withNack(failure -> {
                    received.completeExceptionally(failure);
                    return CompletableFuture.completedFuture(null);
                }));
        return received.thenApply(receivedAt -> receivedAt - sent)
                .orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .whenComplete((ok, failure) -> pending.remove(id));
    }

    @Incoming("diagnostics-in")
    void receive(String probeId) {
        CompletableFuture<Long> waiting = probeId == null ? null : pending.get(probeId);
        if (waiting != null) {
            waiting.complete(System.nanoTime());
        }
        // Probes of earlier runs (or of another instance's start-up replay) are simply skipped.
    }
}
