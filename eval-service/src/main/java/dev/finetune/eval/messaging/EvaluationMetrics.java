package dev.finetune.eval.messaging;

import dev.finetune.events.EvaluationStatus;
import dev.finetune.service.metrics.DurationHistograms;
import dev.finetune.service.metrics.Recording;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@code finetune_evaluation_duration_seconds} (a histogram of evaluations run, from loading the
 * data to the gates) and {@code finetune_evaluation_gate_outcomes_total{outcome}}: {@code passed},
 * {@code failed} (a gate failed) or {@code errored} (the checkpoint could not be scored). Each
 * evaluation is counted once, when it is run; a re-published result is not.
 */
@ApplicationScoped
public class EvaluationMetrics {
    private final MeterRegistry registry;

    EvaluationMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** An evaluation ran for {@code nanos} and ended {@code status}. */
    public void evaluated(long nanos, EvaluationStatus status) {
        Recording.safely("evaluation", () -> {
            DurationHistograms.timer(
                            "finetune.evaluation.duration",
                            "Evaluations of checkpoints, from loading the data to the gates",
                            Duration.ofMillis(100),
                            Duration.ofHours(2))
                    .register(registry)
                    .record(nanos, TimeUnit.NANOSECONDS);
            Counter.builder("finetune.evaluation.gate.outcomes")
                    .description("Evaluations by outcome of their gates")
                    .tag("outcome", outcome(status))
                    .register(registry)
                    .increment();
        });
    }

    static String outcome(EvaluationStatus status) {
        return switch (status) {
            case PASSED -> "passed";
            case GATES_FAILED -> "failed";
            case ERROR -> "errored";
        };
    }
}
