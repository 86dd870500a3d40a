package dev.finetune.events;

import java.time.Instant;
import java.util.Map;

/**
 * Something happened to a training job: a state change, progress metrics, or a checkpoint. Events
 * of one job are keyed by its id and numbered, so a consumer can order them and drop duplicates.
 *
 * @param jobId the job
 * @param sequence position in the job's event stream, starting at 1, strictly increasing
 * @param kind what this event reports
 * @param state the job's state after this event (for every kind)
 * @param message a human-readable line, e.g. "resumed from step 40 on worker w-2"; for a failed job,
 *     the reason a person can act on
 * @param metrics progress numbers, for {@link TrainingEventKind#METRICS}; else null
 * @param at when it happened
 */
public record TrainingEvent(
        String jobId,
        long sequence,
        TrainingEventKind kind,
        JobState state,
        String message,
        Metrics metrics,
        Instant at)
        implements PipelineEvent {
    public static final String TYPE = "dev.finetune.training.event.v1";

    /**
     * Training progress at one optimizer step.
     *
     * @param step optimizer steps done
     * @param totalSteps optimizer steps the job will take in all
     * @param epoch fractional epoch, e.g. 1.5 = halfway through the second pass
     * @param loss mean training loss over the steps since the previous metrics event
     * @param learningRate the learning rate at {@code step}
     * @param gradNorm global gradient norm before clipping
     * @param tokensPerSecond training throughput since the previous metrics event
     * @param etaSeconds estimated seconds until the job finishes
     * @param evaluation the validation split's metrics when {@code step} was evaluated (eval_strategy),
     *     transformers' names ({@code eval_loss}, DPO's {@code eval_rewards/accuracies}...); null otherwise.
     *     An evaluated step is always reported, never coalesced with later progress.
     * @param objective the objective's own metrics at {@code step}, TRL's names: DPO's {@code
     *     rewards/accuracies}, a reward model's {@code accuracy} and {@code margin}, GRPO's {@code reward},
     *     {@code kl}, {@code clip_ratio}..., PPO's {@code objective/scores}, {@code objective/kl}, {@code
     *     objective/entropy}, {@code policy/clipfrac_avg}, {@code loss/value_avg}...; null for an objective that has none (SFT)
     */
    public record Metrics(
            long step,
            long totalSteps,
            double epoch,
            double loss,
            double learningRate,
            double gradNorm,
            double tokensPerSecond,
            double etaSeconds,
            Map<String, Double> evaluation,
            Map<String, Double> objective) {
        public Metrics {
            evaluation = evaluation == null ? null : Map.copyOf(evaluation);
            objective = objective == null || objective.isEmpty() ? null : Map.copyOf(objective);
        }

        /** Progress of a step that was not evaluated. */
        public Metrics(
                long step,
                long totalSteps,
                double epoch,
                double loss,
                double learningRate,
                double gradNorm,
                double tokensPerSecond,
                double etaSeconds) {
            this(step, totalSteps, epoch, loss, learningRate, gradNorm, tokensPerSecond, etaSeconds, null, null);
        }
    }

    @Override
    public String cloudEventSubject() {
        return jobId;
    }
}
