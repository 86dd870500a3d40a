package dev.finetune.eval.run;

import dev.finetune.events.EvaluationCompleted;
import dev.finetune.events.EvaluationCompleted.GateOutcome;
import dev.finetune.events.EvaluationStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The full result of one evaluation, stored as JSON at {@code reportKey}; the event carries its
 * summary.
 *
 * @param promptBaselineMetrics the same metrics for the base model prompted as {@code promptBaseline}
 *     says; empty when there is no prompt baseline
 * @param improvement per metric, how much better the checkpoint is than the base model: base -
 *     checkpoint for eval_loss and perplexity, checkpoint - base for the others (positive = better)
 * @param baseDtype how the decoder linears of both scored models were stored: fp32, int8 or nf4
 *     ({@code pipeline.eval.base-dtype}); null when the evaluation failed before choosing
 * @param scoredTokens completion tokens behind eval_loss, perplexity and mean_token_accuracy
 * @param samples the first few generations (see {@code generations} for all)
 * @param generations every test-split generation of the checkpoint, with its scores
 * @param baseGenerations the base model's generations on the same prompts
 * @param promptBaseline the prompt baseline (system prompt, worked examples); null when off or the
 *     dataset has no train split
 * @param promptBaselineGenerations the prompted base model's generations on the same examples
 */
public record EvaluationReport(
        String evaluationId,
        String jobId,
        long step,
        String checkpointPrefix,
        String reportKey,
        String baseModel,
        String datasetName,
        String datasetVersion,
        String method,
        EvaluationStatus status,
        Map<String, Double> metrics,
        Map<String, Double> baseMetrics,
        Map<String, Double> promptBaselineMetrics,
        Map<String, Double> improvement,
        List<GateOutcome> gates,
        Limits limits,
        String baseDtype,
        long scoredTokens,
        List<Generation> samples,
        List<Generation> generations,
        List<Generation> baseGenerations,
        PromptBaseline promptBaseline,
        List<Generation> promptBaselineGenerations,
        String error,
        Instant completedAt) {

    /** A failed evaluation: no metrics, the reason. */
    public static EvaluationReport failed(EvaluationRequest r, Limits limits, String error) {
        return new EvaluationReport(
                r.evaluationId(),
                r.jobId(),
                r.step(),
                r.checkpointPrefix(),
                r.reportKey(),
                r.baseModel(),
                r.datasetName(),
                r.datasetVersion(),
                r.method() == null ? null : r.method().code(),
                EvaluationStatus.ERROR,
                Map.of(),
                Map.of(),
                Map.of(),
                Map.of(),
                List.of(),
                limits,
                null,
                0,
                List.of(),
                List.of(),
                List.of(),
                null,
                List.of(),
                error,
                Instant.now());
    }

    public EvaluationCompleted toEvent() {
        return new EvaluationCompleted(
                evaluationId,
                jobId,
                checkpointPrefix,
                step,
                status,
                metrics,
                baseMetrics,
                promptBaselineMetrics,
                gates,
                (samples == null ? List.<Generation>of() : samples)
                        .stream()
                                .map(g -> new EvaluationCompleted.SampleGeneration(
                                        g.prompt(), g.reference(), g.generated(), g.exactMatch(), g.rougeL()))
                                .toList(),
                reportKey,
                error,
                completedAt);
    }
}
