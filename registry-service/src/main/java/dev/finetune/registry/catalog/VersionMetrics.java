package dev.finetune.registry.catalog;

import dev.finetune.events.EvaluationCompleted;
import dev.finetune.events.EvaluationStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A version's {@code metrics.json}: its evaluation, as the eval-service reported it.
 *
 * @param evaluationId the evaluation
 * @param status passed or gates_failed
 * @param step the evaluated checkpoint step
 * @param metrics the version's metrics by name
 * @param baseMetrics the base model's metrics on the same data
 * @param gates the eval-service's gates and their outcomes
 * @param completedAt when the evaluation finished
 */
public record VersionMetrics(
        String evaluationId,
        EvaluationStatus status,
        long step,
        Map<String, Double> metrics,
        Map<String, Double> baseMetrics,
        List<EvaluationCompleted.GateOutcome> gates,
        Instant completedAt) {

    public static VersionMetrics of(EvaluationCompleted e) {
        return new VersionMetrics(
                e.evaluationId(),
                e.status(),
                e.step(),
                e.metrics() == null ? Map.of() : e.metrics(),
                e.baseMetrics() == null ? Map.of() : e.baseMetrics(),
                e.gates() == null ? List.of() : e.gates(),
                e.completedAt());
    }
}
