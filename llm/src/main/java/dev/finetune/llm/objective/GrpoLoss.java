package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Group relative policy optimisation's loss (Shao et al. 2024, DeepSeekMath), as TRL's {@code
 * GRPOTrainer._compute_loss}. For completion i of a group of G sampled for one prompt, with reward r_i:
 *
 * <pre>
 * A_i      = r_i - mean(r_group)                 ({@link #advantages}; / (std(r_group) + 1e-4) with scale_rewards)
 * ratio_it = exp(logp_it - logp_old_it)          (logp_old: the generating policy's; logp detached with num_iterations 1)
 * kl_it    = exp(ref_it - logp_it) - (ref_it - logp_it) - 1      (the k3 estimator of KL(policy || ref))
 * l_it     = -min(ratio_it A_i, clip(ratio_it, 1 - epsilon, 1 + epsilon_high) A_i) + beta kl_it
 * loss     = sum_it l_it w_i                     (w_i from the {@link GrpoLossType}: {@link #rowWeights})
 * </pre>
 *
 * std is the unbiased (n - 1) estimate, as torch's. The per-token losses are returned summed with
 * per-completion weights, so every loss_type is one expression and the caller's normaliser for a
 * window of micro-batches is in the weights.
 *
 * <p>Dimension letters: B completions, T completion positions (the longest completion's length).
 */
public final class GrpoLoss {
    /** Added to the group's standard deviation before dividing (TRL's 1e-4): a group of equal rewards has A = 0. */
    public static final double STD_GUARD = 1e-4;

    private final double beta;
    private final double epsilonLow;
    private final double epsilonHigh;

    // constants as arrays created once: a Java number on the gradient path is freed while autograd still
    // needs it (see FIELD-NOTES, DJL hazards)
    private final NDArray betaArray;
    private final NDArray one;
    private final NDArray low; // 1 - epsilon
    private final NDArray high; // 1 + epsilon_high

    /**
     * @param beta weight of the KL term, >= 0 (0: none, and no reference log-probabilities are needed)
     * @param epsilonLow the ratio's lower clip is 1 - epsilonLow, in (0, 1]
     * @param epsilonHigh the ratio's upper clip is 1 + epsilonHigh, > 0
     * @param manager holds the constants as long as the loss is used
     */
    public GrpoLoss(double beta, double epsilonLow, double epsilonHigh, NDManager manager) {
        if (!(beta >= 0) || !(epsilonLow > 0 && epsilonLow <= 1) || !(epsilonHigh > 0)) {
            throw new IllegalArgumentException("GRPO needs beta >= 0, epsilon in (0, 1] and epsilon_high > 0, got "
                    + beta + ", " + epsilonLow + ", " + epsilonHigh);
        }
        this.beta = beta;
        this.epsilonLow = epsilonLow;
        this.epsilonHigh = epsilonHigh;
        this.betaArray = manager.create((float) beta);
        this.one = manager.create(1f);
        this.low = manager.create((float) (1 - epsilonLow));
        this.high = manager.create((float) (1 + epsilonHigh));
    }

    public double beta() {
        return beta;
    }

    /** Whether the loss has a KL term, and so needs the reference's log-probabilities. */
    public boolean usesReference() {
        return beta > 0;
    }

    /**
     * Each completion's advantage: its reward minus its group's mean, divided by the group's standard
     * deviation (+ {@link #STD_GUARD}) when {@code scaleRewards}. Groups are consecutive: completions
     * [g G, (g + 1) G) belong to prompt g.
     */
    public static double[] advantages(double[] rewards, int groupSize, boolean scaleRewards) {
        if (groupSize < 2 || rewards.length % groupSize != 0) {
            throw new IllegalArgumentException(
                    rewards.length + " rewards do not make groups of " + groupSize + " (at least 2 each)");
        }
        double[] advantages = new double[rewards.length];
        for (int start = 0; start < rewards.length; start += groupSize) {
            double mean = mean(rewards, start, groupSize);
            double std = std(rewards, start, groupSize, mean);
            for (int i = start; i < start + groupSize; i++) {
                advantages[i] = scaleRewards ? (rewards[i] - mean) / (std + STD_GUARD) : rewards[i] - mean;
            }
        }
        return advantages;
    }

    /** The mean of {@code values[start, start + n)}. */
    public static double mean(double[] values, int start, int n) {
        double sum = 0;
        for (int i = start; i < start + n; i++) {
            sum += values[i];
        }
        return sum / n;
    }

    /** The unbiased standard deviation of {@code values[start, start + n)} about {@code mean}. */
    public static double std(double[] values, int start, int n, double mean) {
        double squares = 0;
        for (int i = start; i < start + n; i++) {
            squares += (values[i] - mean) * (values[i] - mean);
        }
        return Math.sqrt(squares / (n - 1));
    }

    /**
     * Each completion's weight w_i in {@code loss = sum_it l_it w_i} for one micro-batch of a window.
     *
     * @param lengths the micro-batch's completion lengths |o_i| in tokens
     * @param window the totals of the step's window the micro-batch belongs to
     */
    public static float[] rowWeights(GrpoLossType type, int[] lengths, Window window) {
        int batchTokens = 0;
        for (int length : lengths) {
            batchTokens += length;
        }
        float[] weights = new float[lengths.length];
        for (int i = 0; i < lengths.length; i++) {
            double w =
                    switch (type) {
                        case GRPO -> 1.0 / (Math.max(1, lengths[i]) * (double) window.completions());
                        case BNPO -> 1.0 / (Math.max(1, batchTokens) * (double) window.microBatches());
                        case DR_GRPO -> 1.0 / ((double) window.completions() * window.maxCompletionLength());
                        case DAPO -> 1.0 / Math.max(1, window.tokens());
                    };
            weights[i] = (float) w;
        }
        return weights;
    }

    /**
     * The totals over one optimizer step's completions that the loss types normalise by.
     *
     * @param completions completions of the step
     * @param tokens their completion tokens
     * @param microBatches micro-batches of the step
     * @param maxCompletionLength max_completion_length
     */
    public record Window(int completions, int tokens, int microBatches, int maxCompletionLength) {}

    /**
     * The per-token KL estimate k3 [B, T]: {@code exp(ref - logp) - (ref - logp) - 1}, >= 0, 0 where the
     * policy and the reference agree. Keeps the gradient with respect to {@code logProbs}.
     */
    public NDArray perTokenKl(NDArray logProbs, NDArray referenceLogProbs) {
        NDArray delta = referenceLogProbs.sub(logProbs); // [B, T]
        return delta.exp().sub(delta).sub(one); // [B, T]
    }

    /**
     * The per-token losses l_it [B, T] (not yet masked or weighted).
     *
     * @param logProbs the policy's token log-probabilities [B, T], on the gradient path
     * @param oldLogProbs the log-probabilities the completions were sampled with [B, T], constants
     * @param referenceLogProbs the reference's [B, T], constants; null when beta is 0
     * @param advantages [B]
     */
    public NDArray perTokenLoss(NDArray logProbs, NDArray oldLogProbs, NDArray referenceLogProbs, NDArray advantages) {
        NDArray ratio = logProbs.sub(oldLogProbs).exp(); // [B, T]
        NDArray clipped = ratio.maximum(low).minimum(high); // [B, T]
        NDArray a = advantages.expandDims(1); // [B, 1]
        NDArray loss = ratio.mul(a).minimum(clipped.mul(a)).neg(); // [B, T]
        if (usesReference()) {
            loss = loss.add(perTokenKl(logProbs, referenceLogProbs).mul(betaArray)); // [B, T]
        }
        return loss;
    }

    /**
     * The micro-batch's share of the step's loss: {@code sum_it l_it mask_it w_i}.
     *
     * @param mask [B, T] 1 on completion tokens, 0 on padding
     * @param rowWeights [B] from {@link #rowWeights}
     */
    public NDArray loss(
            NDArray logProbs,
            NDArray oldLogProbs,
            NDArray referenceLogProbs,
            NDArray advantages,
            NDArray mask,
            NDArray rowWeights) {
        return perTokenLoss(logProbs, oldLogProbs, referenceLogProbs, advantages)
                .mul(mask)
                .mul(rowWeights.expandDims(1))
                .sum(); // [B, T] -> scalar
    }

    /**
     * Whether a token's ratio is clipped where the clip matters: below 1 - epsilon with A < 0, or above 1 +
     * epsilon_high with A > 0 (TRL's {@code clip_ratio/region_mean}). Always false with num_iterations 1,
     * where the ratio is 1.
     */
    public boolean clipped(double ratio, double advantage) {
        return (ratio < 1 - epsilonLow && advantage < 0) || (ratio > 1 + epsilonHigh && advantage > 0);
    }
}
