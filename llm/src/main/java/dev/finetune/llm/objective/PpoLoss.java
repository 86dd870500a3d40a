package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.List;

/**
 * Proximal policy optimisation's arithmetic as TRL's {@code PPOTrainer} (Schulman et al. 2017; the RLHF
 * recipe of Ziegler et al. 2019 and Ouyang et al. 2022). For a completion of L tokens, with the policy's
 * log-probability {@code logp_t} of token t at sampling time, the reference's {@code ref_t}, the value
 * head's {@code V_t} (the value of the state before token t) and the reward model's or rule's score:
 *
 * <pre>
 * kl_t     = k1: logp_t - ref_t,  k3: (exp(ref_t - logp_t) - 1) - (ref_t - logp_t)      ({@link KlEstimator})
 * r_t      = -kl_coef kl_t, plus the score at the last token t = L - 1                 ({@link #tokenRewards})
 * delta_t  = r_t + gamma V_{t+1} - V_t,  V_L = 0 (the completion ends the episode)
 * A_t      = delta_t + gamma lam A_{t+1},  A_L = 0;  R_t = A_t + V_t                   ({@link #advantages})
 * A        = (A - mean(A)) / sqrt(var(A) + 1e-8) over every token of the rollout batch  ({@link #whiten})
 * ratio_t  = exp(logp'_t - logp_t)                       (logp' the policy being trained)
 * pg_t     = max(-A_t ratio_t, -A_t clip(ratio_t, 1 - cliprange, 1 + cliprange))
 * Vc_t     = V_t + clip(V'_t - V_t, -cliprange_value, cliprange_value)
 * vf_t     = 0.5 max((V'_t - R_t)^2, (Vc_t - R_t)^2)
 * loss     = mean_t pg_t + vf_coef mean_t vf_t           (means over the mini-batch's completion tokens)
 * </pre>
 *
 * var is the unbiased (n - 1) estimate, as TRL's {@code masked_var}. One difference from TRL: TRL also
 * keeps the value predicted one position past the last token (its {@code padding_mask_p1}) and
 * bootstraps from it; here the last token ends the episode (V_L = 0), as the GAE definition and TRL's
 * older {@code compute_advantages} have it.
 *
 * <p>Dimension letters: B completions, T completion positions.
 */
public final class PpoLoss {
    /** Added to the variance before the square root when whitening (TRL's {@code whiten}). */
    public static final double WHITEN_GUARD = 1e-8;

    private final double cliprange;
    private final double cliprangeValue;

    // constants as arrays created once: a Java number on the gradient path is freed while autograd still
    // needs it (see FIELD-NOTES, DJL hazards)
    private final NDArray low; // 1 - cliprange
    private final NDArray high; // 1 + cliprange
    private final NDArray valueLow; // -cliprange_value
    private final NDArray valueHigh; // cliprange_value
    private final NDArray half;
    private final NDArray vfCoef;

    /**
     * @param cliprange the ratio is clipped to [1 - cliprange, 1 + cliprange], in (0, 1]
     * @param cliprangeValue the value prediction moves at most this far from the rollout's, > 0
     * @param vfCoef weight of the value loss, >= 0
     * @param manager holds the constants as long as the loss is used
     */
    public PpoLoss(double cliprange, double cliprangeValue, double vfCoef, NDManager manager) {
        if (!(cliprange > 0 && cliprange <= 1) || !(cliprangeValue > 0) || !(vfCoef >= 0)) {
            throw new IllegalArgumentException("PPO needs cliprange in (0, 1], cliprange_value > 0 and vf_coef >= 0,"
                    + " got " + cliprange + ", " + cliprangeValue + ", " + vfCoef);
        }
        this.cliprange = cliprange;
        this.cliprangeValue = cliprangeValue;
        this.low = manager.create((float) (1 - cliprange));
        this.high = manager.create((float) (1 + cliprange));
        this.valueLow = manager.create((float) -cliprangeValue);
        this.valueHigh = manager.create((float) cliprangeValue);
        this.half = manager.create(0.5f);
        this.vfCoef = manager.create((float) vfCoef);
    }

    /**
     * A completion's per-token KL estimates and rewards.
     *
     * @param kl kl_t of each token
     * @param rewards r_t: -kl_coef kl_t, the score added at the last token
     */
    public record TokenRewards(double[] kl, double[] rewards) {}

    /**
     * The per-token rewards of one completion of {@code logProbs.length} (> 0) tokens: the KL penalty at
     * every token and {@code score} at the last.
     */
    public static TokenRewards tokenRewards(
            double[] logProbs, double[] referenceLogProbs, double score, double klCoef, KlEstimator estimator) {
        if (logProbs.length == 0 || logProbs.length != referenceLogProbs.length) {
            throw new IllegalArgumentException("a completion needs one reference log-probability per token, got "
                    + logProbs.length + " and " + referenceLogProbs.length);
        }
        double[] kl = new double[logProbs.length];
        double[] rewards = new double[logProbs.length];
        for (int t = 0; t < kl.length; t++) {
            kl[t] = estimator.estimate(logProbs[t], referenceLogProbs[t]);
            rewards[t] = -klCoef * kl[t];
        }
        rewards[rewards.length - 1] += score;
        return new TokenRewards(kl, rewards);
    }

    /**
     * Generalised advantage estimates of one completion (Schulman et al. 2016), by the recursion from the
     * last token back: {@code A_t = delta_t + gamma lam A_{t+1}}, the state after the last token worth 0.
     */
    public static double[] advantages(double[] rewards, double[] values, double gamma, double lam) {
        if (rewards.length != values.length) {
            throw new IllegalArgumentException(
                    "one value per reward is needed, got " + rewards.length + " and " + values.length);
        }
        double[] advantages = new double[rewards.length];
        double next = 0; // A_{t+1}
        for (int t = rewards.length - 1; t >= 0; t--) {
            double nextValue = t + 1 < values.length ? values[t + 1] : 0;
            double delta = rewards[t] + gamma * nextValue - values[t];
            next = delta + gamma * lam * next;
            advantages[t] = next;
        }
        return advantages;
    }

    /**
     * {@code values} whitened in place over all their entries together (every token of a rollout batch):
     * minus the mean, divided by {@code sqrt(var + 1e-8)} with the unbiased variance, as TRL's {@code
     * whiten(shift_mean=True)}. A batch of one token (one prompt whose completion is a single token) has
     * no variance: its advantage becomes 0, its mean removed, so the step updates only the value head.
     * TRL raises there; a job should not fail because a sampled completion ended at once.
     */
    public static void whiten(List<double[]> values) {
        long n = 0;
        double sum = 0;
        for (double[] row : values) {
            for (double v : row) {
                sum += v;
                n++;
            }
        }
        if (n < 2) {
            values.forEach(row -> Arrays.fill(row, 0));
            return;
        }
        double mean = sum / n;
        double squares = 0;
        for (double[] row : values) {
            for (double v : row) {
                squares += (v - mean) * (v - mean);
            }
        }
        double scale = 1 / Math.sqrt(squares / (n - 1) + WHITEN_GUARD);
        for (double[] row : values) {
            for (int t = 0; t < row.length; t++) {
                row[t] = (row[t] - mean) * scale;
            }
        }
    }

    /**
     * The clipped surrogate's per-token losses pg_t [B, T] (not yet masked).
     *
     * @param logProbs the policy's log-probabilities [B, T], on the gradient path
     * @param oldLogProbs those at sampling time [B, T], constants
     * @param advantages whitened A_t [B, T], constants
     */
    public NDArray policyLosses(NDArray logProbs, NDArray oldLogProbs, NDArray advantages) {
        NDArray ratio = logProbs.sub(oldLogProbs).exp(); // [B, T]
        NDArray unclipped = advantages.mul(ratio).neg(); // [B, T]
        NDArray clipped = advantages.mul(ratio.maximum(low).minimum(high)).neg(); // [B, T]
        return unclipped.maximum(clipped); // [B, T]
    }

    /**
     * The clipped value loss's per-token terms vf_t [B, T] (not yet masked).
     *
     * @param values the value head's predictions [B, T], on the gradient path
     * @param oldValues those at sampling time [B, T], constants
     * @param returns R_t [B, T], constants
     */
    public NDArray valueLosses(NDArray values, NDArray oldValues, NDArray returns) {
        NDArray clippedValues =
                oldValues.add(values.sub(oldValues).maximum(valueLow).minimum(valueHigh)); // [B, T]
        NDArray error = values.sub(returns); // [B, T]
        NDArray clippedError = clippedValues.sub(returns); // [B, T]
        return error.mul(error).maximum(clippedError.mul(clippedError)).mul(half); // [B, T]
    }

    /**
     * A micro-batch's share of a mini-batch's loss: {@code sum_t (pg_t + vf_coef vf_t) mask_t / tokens}.
     *
     * @param mask [B, T] 1 on completion tokens, 0 on padding
     * @param perToken 1 / the mini-batch's completion tokens, a scalar array
     */
    public NDArray loss(
            NDArray logProbs,
            NDArray oldLogProbs,
            NDArray advantages,
            NDArray values,
            NDArray oldValues,
            NDArray returns,
            NDArray mask,
            NDArray perToken) {
        NDArray policy = policyLosses(logProbs, oldLogProbs, advantages); // [B, T]
        NDArray value = valueLosses(values, oldValues, returns); // [B, T]
        return policy.add(value.mul(vfCoef)).mul(mask).sum().mul(perToken); // [B, T] -> scalar
    }

    /** Whether the clip decides a token's policy loss (TRL's {@code pg_clipfrac}: {@code pg_losses2 > pg_losses}). */
    public boolean policyClipped(double ratio, double advantage) {
        double clippedRatio = Math.max(1 - cliprange, Math.min(1 + cliprange, ratio));
        return -advantage * clippedRatio > -advantage * ratio;
    }

    /** Whether the clip decides a token's value loss (TRL's {@code vf_clipfrac}: {@code vf_losses2 > vf_losses1}). */
    public boolean valueClipped(double value, double oldValue, double target) {
        double clippedValue = oldValue + Math.max(-cliprangeValue, Math.min(cliprangeValue, value - oldValue));
        return (clippedValue - target) * (clippedValue - target) > (value - target) * (value - target);
    }
}
