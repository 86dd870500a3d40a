package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * The Bradley-Terry loss of a reward model on preference pairs, as TRL's {@code RewardTrainer}: per
 * pair, with r the scores of the chosen and rejected sequences and m the pair's optional margin,
 *
 * <pre>
 * loss = -log sigmoid(r_chosen - r_rejected - m) + center_rewards_coefficient * (r_chosen + r_rejected)^2
 * </pre>
 *
 * and the batch's loss is the mean over its pairs (TRL adds {@code coeff * mean((r_c + r_r)^2)} to the
 * mean of the first term: the same number). The second term (Eisenstein et al., 2023) keeps the scores
 * centred on zero; it is off at coefficient 0.
 */
public final class RewardLoss {
    private final double centerRewardsCoefficient;
    private final NDArray coefficient;

    /**
     * @param centerRewardsCoefficient TRL's {@code center_rewards_coefficient}; 0 turns the term off
     * @param manager holds the coefficient as an array (a Java scalar on the gradient path corrupts
     *     gradients, see {@link dev.finetune.llm.model.Attention})
     */
    public RewardLoss(double centerRewardsCoefficient, NDManager manager) {
        this.centerRewardsCoefficient = centerRewardsCoefficient;
        this.coefficient = manager.create((float) centerRewardsCoefficient);
    }

    /**
     * Each pair's loss [B] from the chosen [B] and rejected [B] scores and the margins [B] (all
     * float32, the margins constants); {@code softplus(-x) = -log sigmoid(x)} is the stable form.
     */
    public NDArray losses(NDArray chosen, NDArray rejected, NDArray margins) {
        NDArray pairwise =
                chosen.sub(rejected).sub(margins).neg().getNDArrayInternal().softPlus(); // [B]
        if (centerRewardsCoefficient == 0) {
            return pairwise;
        }
        NDArray sum = chosen.add(rejected); // [B]
        return pairwise.add(sum.mul(sum).mul(coefficient)); // [B]
    }

    public double centerRewardsCoefficient() {
        return centerRewardsCoefficient;
    }

    /** One pair's loss in doubles: what {@link #losses} computes for it, for metrics and checks. */
    public double loss(double chosen, double rejected, double margin) {
        double x = chosen - rejected - margin;
        double softplus = x > 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x)); // -log sigmoid(x)
        return softplus + centerRewardsCoefficient * (chosen + rejected) * (chosen + rejected);
    }

    /**
     * Sums over pairs behind TRL's metrics: {@code accuracy} (share of pairs with r_chosen > r_rejected),
     * {@code margin} (mean r_chosen - r_rejected), {@code min_reward}, {@code mean_reward} and {@code
     * max_reward} over every scored sequence; {@code loss} is the sum of the pairs' losses.
     */
    public record Statistics(
            int pairs, int correct, double margin, double loss, double rewardSum, double min, double max) {
        public static final Statistics EMPTY =
                new Statistics(0, 0, 0, 0, 0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY);

        /** These statistics with the pairs scored {@code chosen[i]}, {@code rejected[i]} added. */
        public Statistics add(double[] chosen, double[] rejected, double[] losses) {
            int correct = this.correct;
            double margin = this.margin;
            double loss = this.loss;
            double rewardSum = this.rewardSum;
            double min = this.min;
            double max = this.max;
            for (int i = 0; i < chosen.length; i++) {
                correct += chosen[i] > rejected[i] ? 1 : 0;
                margin += chosen[i] - rejected[i];
                loss += losses[i];
                rewardSum += chosen[i] + rejected[i];
                min = Math.min(min, Math.min(chosen[i], rejected[i]));
                max = Math.max(max, Math.max(chosen[i], rejected[i]));
            }
            return new Statistics(pairs + chosen.length, correct, margin, loss, rewardSum, min, max);
        }

        public double accuracy() {
            return pairs == 0 ? 0 : (double) correct / pairs;
        }

        public double meanMargin() {
            return pairs == 0 ? 0 : margin / pairs;
        }

        public double meanLoss() {
            return pairs == 0 ? 0 : loss / pairs;
        }

        public double meanReward() {
            return pairs == 0 ? 0 : rewardSum / (2.0 * pairs);
        }
    }
}
