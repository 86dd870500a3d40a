package dev.finetune.llm.train;

import java.time.Duration;
import java.util.Map;

/**
 * What one optimizer step reports, for progress bars and progress events.
 *
 * @param step optimizer steps completed, 1-based (the step just done)
 * @param totalSteps optimizer steps of the whole run
 * @param epoch fractional epochs completed
 * @param loss mean loss of the step's accumulation window
 * @param learningRate the rate this step used
 * @param gradNorm global gradient norm before clipping
 * @param tokensPerSecond real (non-padding) input tokens of the step over its wall time
 * @param eta estimated time to the last step, from the mean step time of this process so far
 * @param stepTime wall time of this step's forward, backward and update passes (listeners and
 *     checkpoint saves not included)
 * @param rolloutTime the part of {@code stepTime} spent making the step's data before its first
 *     training forward pass: for PPO and GRPO sampling and scoring the rollouts (PPO: with the values,
 *     the reference's log-probabilities and the advantages; GRPO with num_iterations &gt; 1: with the
 *     old policy's log-probabilities), zero on the steps that reuse them; for other objectives only
 *     collating the batch. The rest of the step is optimisation (GRPO's reference log-probabilities
 *     are computed there, one micro-batch at a time)
 * @param objectiveMetrics objective-specific means over the window, TRL's names (DPO: {@code
 *     rewards/accuracies}, {@code rewards/margins}...); empty for SFT
 */
public record StepMetrics(
        int step,
        int totalSteps,
        double epoch,
        double loss,
        double learningRate,
        double gradNorm,
        double tokensPerSecond,
        Duration eta,
        Duration stepTime,
        Duration rolloutTime,
        Map<String, Double> objectiveMetrics) {
    public StepMetrics {
        objectiveMetrics = Map.copyOf(objectiveMetrics);
    }
}
