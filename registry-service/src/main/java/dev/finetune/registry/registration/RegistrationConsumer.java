package dev.finetune.registry.registration;

import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EvaluationCompleted;
import dev.finetune.service.messaging.EventProcessing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.TracingMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Consumes the two halves of a registration, {@code checkpoints.created} (final checkpoints) and
 * {@code evaluations.completed}, and hands them to the {@link VersionRegistrar}. Transient failures
 * are retried; a checkpoint that cannot become a version goes to the dead-letter topic with the reason.
 */
@ApplicationScoped
public class RegistrationConsumer {
    private final VersionRegistrar registrar;

    RegistrationConsumer(VersionRegistrar registrar) {
        this.registrar = registrar;
    }

    @Incoming("checkpoints-created")
    @Blocking
    public CompletionStage<Void> onCheckpoint(Message<CheckpointCreated> message) {
        String traceId = traceId(message);
        return EventProcessing.process(message, (event, id) -> registrar.onCheckpoint(event, id, traceId));
    }

    @Incoming("evaluations-completed")
    @Blocking
    public CompletionStage<Void> onEvaluation(Message<EvaluationCompleted> message) {
        String traceId = traceId(message);
        return EventProcessing.process(message, (event, id) -> registrar.onEvaluation(event, id, traceId));
    }

    /** The trace the event belongs to (the producer's, continued by the consumer span), or null. */
    private static String traceId(Message<?> message) {
        SpanContext context = message.getMetadata(TracingMetadata.class)
                .map(t -> Span.fromContext(t.getCurrentContext()).getSpanContext())
                .filter(SpanContext::isValid)
                .orElse(Span.current().getSpanContext());
        return context.isValid() ? context.getTraceId() : null;
    }
}
