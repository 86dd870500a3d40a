package dev.finetune.eval.run;

import dev.finetune.service.tracing.PhaseSpans;
import io.opentelemetry.api.trace.Tracer;
import jakarta.inject.Singleton;

/**
 * One span per evaluation phase ({@code eval.load-data}, {@code eval.base-metrics}, ...), tagged
 * {@code evaluation.id}, each a child of the span current when the evaluation started: the consumer
 * span of the checkpoint event, itself in the training job's trace, or the HTTP request's.
 */
@Singleton
public class EvaluationPhases extends PhaseSpans {
    public static final String EVALUATION_ID = "evaluation.id";

    EvaluationPhases(Tracer tracer) {
        super(tracer, "eval", EVALUATION_ID);
    }
}
