package dev.finetune.eval.messaging;

import dev.finetune.eval.EvalSettings;
import dev.finetune.eval.gates.Gates;
import dev.finetune.eval.run.EvaluationRequest;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.service.messaging.EventProcessing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.smallrye.reactive.messaging.TracingMetadata;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Evaluates every checkpoint announced on {@code checkpoints.created}, one at a time on a worker
 * thread (DJL work never runs on the event loop). The evaluation's spans join the trace the
 * checkpoint event carries, i.e. the training job's.
 */
@ApplicationScoped
public class CheckpointEvaluator {
    private final Evaluations evaluations;
    private final Gates gates;

    CheckpointEvaluator(Evaluations evaluations, EvalSettings settings) {
        this.evaluations = evaluations;
        this.gates = Gates.of(settings.gates());
    }

    @Incoming("checkpoints")
    @Blocking("evaluation")
    public CompletionStage<Void> onCheckpoint(Message<CheckpointCreated> message) {
        Context trace = TracingMetadata.fromMessage(message)
                .map(TracingMetadata::getCurrentContext)
                .filter(c -> Span.fromContext(c).getSpanContext().isSampled())
                .orElse(Context.root()); // no (recorded) trace on the event: the evaluation starts its own
        return EventProcessing.process(
                message,
                (checkpoint, eventId) -> evaluations.evaluateOnce(EvaluationRequest.of(checkpoint, gates), trace));
    }
}
