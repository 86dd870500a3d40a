package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.DoubleUnaryOperator;

/**
 * Direct preference optimisation's loss (Rafailov et al. 2023), as TRL's {@code DPOTrainer.dpo_loss}
 * computes it for each {@link DpoLossType}. With each sequence's score {@code s} (its completion's
 * log-probability, or for ipo the mean over its tokens: {@link #sequenceScores}),
 *
 * <pre>
 * logits = (s_policy(chosen) - s_policy(rejected)) - (s_ref(chosen) - s_ref(rejected))
 * x      = beta * logits,  eps = label_smoothing
 * sigmoid: -log sigmoid(x) (1 - eps) - log sigmoid(-x) eps  =  softplus(-x) (1 - eps) + softplus(x) eps
 * robust:  (softplus(-x) (1 - eps) - softplus(x) eps) / (1 - 2 eps)
 * hinge:   relu(1 - x)
 * ipo:     (logits - 1 / (2 beta))^2
 * </pre>
 *
 * The implicit rewards are {@code beta * (s - s_ref)} of each completion; TRL reports their means,
 * their margin (chosen - rejected) and the preference accuracy (how often the chosen reward is
 * strictly larger).
 *
 * <p>Dimension letters: B pairs.
 */
public final class DpoLoss {
    private final DpoLossType type;
    private final double beta;
    private final double labelSmoothing;

    // The loss's constants as arrays created once: a Java number on the gradient path is freed while
    // autograd still needs it (see FIELD-NOTES, DJL hazards).
    private final NDArray betaArray;
    private final NDArray one;
    private final NDArray kept; // 1 - eps
    private final NDArray flipped; // eps
    private final NDArray robustScale; // 1 / (1 - 2 eps)
    private final NDArray ipoTarget; // 1 / (2 beta): the margin IPO pulls logits to

    /**
     * @param type the loss on the margin
     * @param beta strength of the pull towards the reference, > 0
     * @param labelSmoothing eps in [0, 0.5), for sigmoid and robust only (0 for hinge and ipo)
     * @param manager holds the constants as long as the loss is used
     */
    public DpoLoss(DpoLossType type, double beta, double labelSmoothing, NDManager manager) {
        if (!(beta > 0)) {
            throw new IllegalArgumentException("beta must be > 0, got " + beta);
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
            throw new IllegalArgumentException("label_smoothing must be in [0, 0.5), got " + labelSmoothing);
        }
        if (labelSmoothing > 0 && !type.usesLabelSmoothing()) {
            throw new IllegalArgumentException(
                    "label_smoothing applies to loss_type sigmoid and robust, not " + type.configName());
        }
        this.type = type;
        this.beta = beta;
        this.labelSmoothing = labelSmoothing;
        this.betaArray = manager.create((float) beta);
        this.one = manager.create(1f);
        this.kept = manager.create((float) (1 - labelSmoothing));
        this.flipped = manager.create((float) labelSmoothing);
        this.robustScale = manager.create((float) (1 / (1 - 2 * labelSmoothing)));
        this.ipoTarget = manager.create((float) (1 / (2 * beta)));
    }

    public DpoLossType type() {
        return type;
    }

    /**
     * What the loss compares of each of a batch's rows [2B], from their completions' summed
     * log-probabilities [2B]: the sums, or for ipo the sums divided by each completion's token count
     * {@link PreferenceBatch#completionTokens} (TRL averages for ipo only). Keeps the gradient.
     */
    public NDArray sequenceScores(NDArray completionSums, NDArray completionTokens) {
        return type.averagesOverTokens() ? completionSums.div(completionTokens) : completionSums; // [2B]
    }

    /** {@link #sequenceScores} of Java copies without gradient: a reference's scores of the same rows. */
    public PreferenceScores sequenceScores(PreferenceScores completionSums, float[] completionTokens) {
        return type.averagesOverTokens() ? completionSums.perToken(completionTokens) : completionSums;
    }

    /**
     * Per-pair losses [B], with gradient through the policy's scores.
     *
     * @param policyChosen policy score of each chosen completion [B]
     * @param policyRejected policy score of each rejected completion [B]
     * @param referenceChosen reference scores [B], constants
     * @param referenceRejected reference scores [B], constants
     */
    public NDArray losses(
            NDArray policyChosen, NDArray policyRejected, NDArray referenceChosen, NDArray referenceRejected) {
        NDArray policyRatio = policyChosen.sub(policyRejected); // [B]
        NDArray referenceRatio = referenceChosen.sub(referenceRejected); // [B]
        NDArray logits = policyRatio.sub(referenceRatio); // [B]
        switch (type) {
            case SIGMOID:
                NDArray x = logits.mul(betaArray); // [B]
                NDArray agree = softplus(x.neg()); // -log sigmoid(x) = softplus(-x), stable
                return labelSmoothing == 0
                        ? agree
                        : agree.mul(kept).add(softplus(x).mul(flipped));
            case ROBUST:
                NDArray y = logits.mul(betaArray); // [B]
                return softplus(y.neg()).mul(kept).sub(softplus(y).mul(flipped)).mul(robustScale);
            case HINGE:
                return one.sub(logits.mul(betaArray)).getNDArrayInternal().relu();
            case IPO:
                NDArray gap = logits.sub(ipoTarget); // [B]
                return gap.mul(gap);
            default:
                throw new AssertionError(type);
        }
    }

    /** The loss of one pair from its logits, in doubles: what {@link #losses} computes, for reporting. */
    public double loss(double logits) {
        double x = beta * logits;
        double eps = labelSmoothing;
        switch (type) {
            case SIGMOID:
                return softplus(-x) * (1 - eps) + softplus(x) * eps;
            case ROBUST:
                return (softplus(-x) * (1 - eps) - softplus(x) * eps) / (1 - 2 * eps);
            case HINGE:
                return Math.max(0, 1 - x);
            case IPO:
                double gap = logits - 1 / (2 * beta);
                return gap * gap;
            default:
                throw new AssertionError(type);
        }
    }

    /** Statistics of pairs from their scores (Java copies, no gradient). */
    public Statistics statistics(
            float[] policyChosen, float[] policyRejected, float[] referenceChosen, float[] referenceRejected) {
        return Statistics.of(policyChosen, policyRejected, referenceChosen, referenceRejected, beta, this::loss);
    }

    private static NDArray softplus(NDArray x) {
        return x.getNDArrayInternal().softPlus();
    }

    private static double softplus(double x) {
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    /** Sums of the per-pair statistics of some pairs; {@link #add} them over a window, then take means. */
    public record Statistics(
            int pairs,
            double loss,
            double chosenReward,
            double rejectedReward,
            int correct,
            double chosenLogProb,
            double rejectedLogProb) {
        public static final Statistics EMPTY = new Statistics(0, 0, 0, 0, 0, 0, 0);

        /**
         * Statistics of pairs from their scores (Java copies, no gradient).
         *
         * @param lossOfLogits a pair's loss from its logits (see {@link DpoLoss#loss})
         */
        public static Statistics of(
                float[] policyChosen,
                float[] policyRejected,
                float[] referenceChosen,
                float[] referenceRejected,
                double beta,
                DoubleUnaryOperator lossOfLogits) {
            double loss = 0;
            double chosenReward = 0;
            double rejectedReward = 0;
            int correct = 0;
            double chosenLogProb = 0;
            double rejectedLogProb = 0;
            for (int i = 0; i < policyChosen.length; i++) {
                double chosen = beta * (policyChosen[i] - referenceChosen[i]);
                double rejected = beta * (policyRejected[i] - referenceRejected[i]);
                double logits = ((double) policyChosen[i] - policyRejected[i])
                        - ((double) referenceChosen[i] - referenceRejected[i]);
                loss += lossOfLogits.applyAsDouble(logits);
                chosenReward += chosen;
                rejectedReward += rejected;
                correct += chosen > rejected ? 1 : 0;
                chosenLogProb += policyChosen[i];
                rejectedLogProb += policyRejected[i];
            }
            return new Statistics(
                    policyChosen.length, loss, chosenReward, rejectedReward, correct, chosenLogProb, rejectedLogProb);
        }

        public Statistics add(Statistics other) {
            return new Statistics(
                    pairs + other.pairs,
                    loss + other.loss,
                    chosenReward + other.chosenReward,
                    rejectedReward + other.rejectedReward,
                    correct + other.correct,
                    chosenLogProb + other.chosenLogProb,
                    rejectedLogProb + other.rejectedLogProb);
        }

        public double meanLoss() {
            return loss / pairs;
        }

        /** Fraction of pairs whose chosen reward is strictly larger (0 when policy = reference). */
        public double accuracy() {
            return (double) correct / pairs;
        }

        /** Mean of chosen minus rejected reward. */
        public double margin() {
            return (chosenReward - rejectedReward) / pairs;
        }

        public double meanChosenReward() {
            return chosenReward / pairs;
        }

        public double meanRejectedReward() {
            return rejectedReward / pairs;
        }

        public double meanChosenLogProb() {
            return chosenLogProb / pairs;
        }

        public double meanRejectedLogProb() {
            return rejectedLogProb / pairs;
        }
    }
}
