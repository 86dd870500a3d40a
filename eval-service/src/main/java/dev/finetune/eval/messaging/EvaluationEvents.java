package dev.finetune.eval.messaging;

import dev.finetune.eval.run.EvaluationReport;
import dev.finetune.events.EvaluationCompleted;
import dev.finetune.service.messaging.CloudEventMessages;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

/**
 * Publishes results on {@code evaluations.completed}. The CloudEvents id is derived from the
 * evaluation, so re-publishing a stored result is a duplicate consumers drop.
 */
@ApplicationScoped
public class EvaluationEvents {
    private final CloudEventMessages messages;
    private final Emitter<EvaluationCompleted> emitter;

    EvaluationEvents(CloudEventMessages messages, @Channel("evaluations-out") Emitter<EvaluationCompleted> emitter) {
        this.messages = messages;
        this.emitter = emitter;
    }

    public void completed(EvaluationReport report) {
        messages.sendAndAwait(emitter, report.toEvent(), "evaluation:" + report.evaluationId());
    }
}
