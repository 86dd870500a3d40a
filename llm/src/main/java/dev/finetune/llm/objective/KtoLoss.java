package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Kahneman-Tversky optimisation's loss (Ethayarajh et al. 2024), as TRL's {@code KTOTrainer.kto_loss}
 * computes it with {@code loss_type="kto"}. Each example is a prompt with one completion labelled
 * desirable or undesirable; {@code r} is the completion's log-ratio, its summed log-probability under
 * the policy minus under the reference (TRL sums, it does not average over tokens), and {@code KL} the
 * batch's estimate of KL(policy || reference):
 *
 * <pre>
 * KL          = max(0, mean over the batch's KL rows of (policy - reference) log-probability), detached
 * desirable   = desirable_weight   * (1 - sigmoid(beta * (r - KL)))
 * undesirable = undesirable_weight * (1 - sigmoid(beta * (KL - r)))
 * </pre>
 *
 * A KL row is a prompt with another example's completion (see {@code KtoStep}), so the estimate says
 * how far the policy has moved on completions it is not trained on. KL is a constant to the gradient,
 * as TRL's {@code .detach()}. TRL's rewards are {@code beta * r}.
 *
 * <p>Dimension letters: B examples.
 */
public final class KtoLoss {
    private final double beta;
    private final double desirableWeight;
    private final double undesirableWeight;

    // Constants as arrays created once: a Java number on the gradient path is freed while autograd still
    // needs it (see FIELD-NOTES, DJL hazards).
    private final NDArray betaArray;
    private final NDArray one;

    /**
     * @param beta strength of the pull towards the reference, > 0
     * @param desirableWeight weight of a desirable example's loss, > 0
     * @param undesirableWeight weight of an undesirable example's loss, > 0
     * @param manager holds the constants as long as the loss is used
     */
    public KtoLoss(double beta, double desirableWeight, double undesirableWeight, NDManager manager) {
        if (!(beta > 0)) {
            throw new IllegalArgumentException("beta must be > 0, got " + beta);
        }
        if (!(desirableWeight > 0) || !(undesirableWeight > 0)) {
            throw new IllegalArgumentException("desirable_weight and undesirable_weight must be > 0, got "
                    + desirableWeight + " and " + undesirableWeight);
        }
        this.beta = beta;
        this.desirableWeight = desirableWeight;
        this.undesirableWeight = undesirableWeight;
        this.betaArray = manager.create((float) beta);
        this.one = manager.create(1f);
    }

    public double beta() {
        return beta;
    }

    /** {@code max(0, mean(policy - reference))} of the KL rows' log-probabilities, in doubles. */
    public static double klEstimate(float[] policyKl, float[] referenceKl) {
        double sum = 0;
        for (int i = 0; i < policyKl.length; i++) {
            sum += (double) policyKl[i] - referenceKl[i];
        }
        return Math.max(0, sum / policyKl.length);
    }

    /**
     * Each example's weighted loss [B], with gradient through {@code policy}.
     *
     * @param policy the completions' log-probabilities under the policy [B]
     * @param reference the same under the reference [B], constants
     * @param desirable each example's label
     * @param kl the batch's {@link #klEstimate}
     * @param manager where the per-batch constants (signs, weights, KL) are made
     */
    public NDArray losses(NDArray policy, NDArray reference, boolean[] desirable, double kl, NDManager manager) {
        float[] signs = new float[desirable.length];
        float[] weights = new float[desirable.length];
        for (int i = 0; i < desirable.length; i++) {
            signs[i] = desirable[i] ? 1f : -1f;
            weights[i] = (float) weight(desirable[i]);
        }
        NDArray logRatio = policy.sub(reference).sub(manager.create((float) kl)); // [B], r - KL
        NDArray agreement = logRatio.mul(manager.create(signs)).mul(betaArray); // [B], +-beta (r - KL)
        return one.sub(agreement.getNDArrayInternal().sigmoid()).mul(manager.create(weights)); // [B]
    }

    /** One example's loss in doubles: what {@link #losses} computes, for reporting. */
    public double loss(double logRatio, boolean desirable, double kl) {
        double x = beta * (desirable ? logRatio - kl : kl - logRatio);
        return weight(desirable) * (1 - 1 / (1 + Math.exp(-x)));
    }

    private double weight(boolean desirable) {
        return desirable ? desirableWeight : undesirableWeight;
    }

    /** Statistics of a batch from its scores (Java copies, no gradient). */
    public Statistics statistics(float[] policy, float[] reference, boolean[] desirable, double kl) {
        Statistics s = Statistics.EMPTY;
        for (int i = 0; i < policy.length; i++) {
            double logRatio = (double) policy[i] - reference[i];
            double loss = loss(logRatio, desirable[i], kl);
            s = desirable[i]
                    ? new Statistics(
                            s.desirable + 1,
                            s.undesirable,
                            s.loss + loss,
                            s.desirableReward + beta * logRatio,
                            s.undesirableReward,
                            s.desirableLogProb + policy[i],
                            s.undesirableLogProb,
                            s.kl,
                            s.batches)
                    : new Statistics(
                            s.desirable,
                            s.undesirable + 1,
                            s.loss + loss,
                            s.desirableReward,
                            s.undesirableReward + beta * logRatio,
                            s.desirableLogProb,
                            s.undesirableLogProb + policy[i],
                            s.kl,
                            s.batches);
        }
        return new Statistics(
                s.desirable,
                s.undesirable,
                s.loss,
                s.desirableReward,
                s.undesirableReward,
                s.desirableLogProb,
                s.undesirableLogProb,
                kl,
                1);
    }

    /**
     * Sums over some batches; {@link #add} them over a window, then take means. Desirable examples are
     * TRL's "chosen", undesirable ones its "rejected".
     */
    public record Statistics(
            int desirable,
            int undesirable,
            double loss,
            double desirableReward,
            double undesirableReward,
            double desirableLogProb,
            double undesirableLogProb,
            double kl,
            int batches) {
        public static final Statistics EMPTY = new Statistics(0, 0, 0, 0, 0, 0, 0, 0, 0);

        public Statistics add(Statistics o) {
            return new Statistics(
                    desirable + o.desirable,
                    undesirable + o.undesirable,
                    loss + o.loss,
                    desirableReward + o.desirableReward,
                    undesirableReward + o.undesirableReward,
                    desirableLogProb + o.desirableLogProb,
                    undesirableLogProb + o.undesirableLogProb,
                    kl + o.kl,
                    batches + o.batches);
        }

        /** Mean weighted loss per example. */
        public double meanLoss() {
            return loss / (desirable + undesirable);
        }

        /** Mean KL estimate over the batches. */
        public double meanKl() {
            return kl / batches;
        }

        public double meanDesirableReward() {
            return desirableReward / desirable;
        }

        public double meanUndesirableReward() {
            return undesirableReward / undesirable;
        }

        public double meanDesirableLogProb() {
            return desirableLogProb / desirable;
        }

        public double meanUndesirableLogProb() {
            return undesirableLogProb / undesirable;
        }
    }
}
