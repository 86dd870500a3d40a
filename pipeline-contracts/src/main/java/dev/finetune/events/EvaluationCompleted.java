package dev.finetune.events;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint was scored (or could not be).
 *
 * @param evaluationId the evaluation's id, {@code <job>-step-<n>} for checkpoint evaluations
 * @param jobId the job whose checkpoint this is, or null for an ad-hoc evaluation
 * @param checkpointPrefix the evaluated checkpoint's key prefix
 * @param step the checkpoint's step
 * @param status passed, gates failed, or error
 * @param metrics the checkpoint's metrics by name (e.g. {@code eval_loss}, {@code perplexity},
 *     {@code exact_match}, {@code token_f1}, {@code rouge_1}, {@code rouge_2}, {@code rouge_l},
 *     {@code preference_accuracy})
 * @param baseMetrics the same metrics for the base model on the same data
 * @param promptBaselineMetrics the same metrics for the base model prompted with a system prompt and
 *     worked examples from the train split (the prompt-engineering baseline); empty when there is
 *     none
 * @param gates each configured gate and its outcome
 * @param samples a few of the checkpoint's test-split generations next to their references (all of
 *     them are in the report)
 * @param reportKey object key of the full report (per-example scores, sample generations)
 * @param error why it could not be scored, for {@link EvaluationStatus#ERROR}; else null
 * @param completedAt when it finished
 */
public record EvaluationCompleted(
        String evaluationId,
        String jobId,
        String checkpointPrefix,
        long step,
        EvaluationStatus status,
        Map<String, Double> metrics,
        Map<String, Double> baseMetrics,
        Map<String, Double> promptBaselineMetrics,
        List<GateOutcome> gates,
        List<SampleGeneration> samples,
        String reportKey,
        String error,
        Instant completedAt)
        implements PipelineEvent {
    public static final String TYPE = "dev.finetune.evaluation.completed.v1";

    /**
     * One pass/fail rule applied to the metrics.
     *
     * @param gate the rule as configured, e.g. {@code eval_loss <= base - 0.05}
     * @param passed whether it held
     * @param detail the numbers it was decided on, e.g. "eval_loss 1.92 vs required <= 2.10"
     */
    public record GateOutcome(String gate, boolean passed, String detail) {}

    /**
     * One generation of the evaluated model.
     *
     * @param prompt the prompt as the model saw it (chat template applied)
     * @param reference the reference answer
     * @param generated what the model generated (greedy)
     * @param exactMatch 1 if equal after normalisation, else 0
     * @param rougeL ROUGE-L F1 against the reference
     */
    public record SampleGeneration(
            String prompt, String reference, String generated, double exactMatch, double rougeL) {}

    @Override
    public String cloudEventSubject() {
        return jobId != null ? jobId : evaluationId;
    }
}
