package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;

/**
 * Direct preference optimisation with the sigmoid loss (Rafailov et al. 2023; TRL's {@code
 * loss_type="sigmoid"}): with policy log-ratio {@code pi = log p(chosen) - log p(rejected)} and the
 * reference model's {@code ref} likewise,
 *
 * <pre>loss = -log sigmoid(beta * (pi - ref)) = softplus(-beta * (pi - ref))</pre>
 *
 * The implicit rewards are {@code beta * (log p - log p_ref)} of each completion; TRL reports their
 * means, their margin (chosen - rejected) and the preference accuracy (how often the chosen reward
 * is strictly larger).
 *
 * <p>Dimension letters: B pairs.
 */
public final class DpoLoss {
    private DpoLoss() {}

    /**
     * Per-pair losses [B], with gradient through the policy log-probabilities.
     *
     * @param policyChosen policy {@code log p(chosen | prompt)} [B]
     * @param policyRejected policy {@code log p(rejected | prompt)} [B]
     * @param referenceChosen reference log-probabilities [B], constants
     * @param referenceRejected reference log-probabilities [B], constants
     * @param beta a scalar array (a Java number on the gradient path would be freed too early)
     */
    public static NDArray losses(
            NDArray policyChosen,
            NDArray policyRejected,
            NDArray referenceChosen,
            NDArray referenceRejected,
            NDArray beta) {
        NDArray policyRatio = policyChosen.sub(policyRejected); // [B]
        NDArray referenceRatio = referenceChosen.sub(referenceRejected); // [B]
        NDArray logits = policyRatio.sub(referenceRatio).mul(beta); // [B]
        return logits.neg().getNDArrayInternal().softPlus(); // -log sigmoid(x) = softplus(-x), stable
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

        /** Statistics of pairs from their log-probabilities (Java copies, no gradient). */
        public static Statistics of(
                float[] policyChosen,
                float[] policyRejected,
                float[] referenceChosen,
                float[] referenceRejected,
                double beta) {
            double loss = 0;
            double chosenReward = 0;
            double rejectedReward = 0;
            int correct = 0;
            double chosenLogProb = 0;
            double rejectedLogProb = 0;
            for (int i = 0; i < policyChosen.length; i++) {
                double chosen = beta * (policyChosen[i] - referenceChosen[i]);
                double rejected = beta * (policyRejected[i] - referenceRejected[i]);
                double x = chosen - rejected;
                loss += Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x))); // softplus(-x)
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
