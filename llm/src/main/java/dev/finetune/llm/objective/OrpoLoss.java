package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * The odds-ratio term of odds ratio preference optimisation (Hong et al. 2024), as TRL's {@code
 * ORPOTrainer.odds_ratio_loss} computes it. Each completion is scored by its mean log-probability per
 * completion token {@code m} (TRL's {@code average_log_prob=True}), whose odds are {@code p / (1 - p)}
 * with {@code p = exp(m)}:
 *
 * <pre>
 * log_odds = (m_chosen - m_rejected) - (log(1 - exp(m_chosen)) - log(1 - exp(m_rejected)))
 * loss     = beta * -log sigmoid(log_odds)  =  beta * softplus(-log_odds)
 * </pre>
 *
 * ORPO's whole loss adds the negative log-likelihood of the chosen sequences (see {@code OrpoStep});
 * there is no reference model. TRL's rewards are {@code beta * m} of each completion, its accuracy how
 * often the chosen reward is strictly larger, {@code log_odds_ratio} the mean of {@code log
 * sigmoid(log_odds)} and {@code log_odds_chosen} the mean of {@code log_odds}.
 *
 * <p>Computed in float64: {@code 1 - exp(m)} of a completion the model is nearly sure of loses every
 * digit in fp32. A completion whose mean is 0 (every token certain) has infinite odds; {@link
 * #MAX_MEAN_LOG_PROB} keeps it finite.
 *
 * <p>Dimension letters: B pairs.
 */
public final class OrpoLoss {
    /** The highest mean log-probability scored: exp(-1e-9) < 1, so its odds stay finite. */
    public static final double MAX_MEAN_LOG_PROB = -1e-9;

    private final double beta;

    // Constants as arrays created once: a Java number on the gradient path is freed while autograd still
    // needs it (see FIELD-NOTES, DJL hazards).
    private final NDArray betaArray;
    private final NDArray one;

    /**
     * @param beta weight of the odds-ratio term against the NLL, > 0
     * @param manager holds the constants as long as the loss is used
     */
    public OrpoLoss(double beta, NDManager manager) {
        if (!(beta > 0)) {
            throw new IllegalArgumentException("beta must be > 0, got " + beta);
        }
        this.beta = beta;
        this.betaArray = manager.create(beta);
        this.one = manager.create(1.0);
    }

    public double beta() {
        return beta;
    }

    /**
     * Each pair's {@code beta * -log sigmoid(log_odds)} [B], float64, with gradient through the mean
     * log-probabilities.
     *
     * @param chosenMeans mean log-probability per token of each chosen completion [B], float64
     * @param rejectedMeans the same of each rejected completion [B], float64
     */
    public NDArray losses(NDArray chosenMeans, NDArray rejectedMeans) {
        if (chosenMeans.getDataType() != DataType.FLOAT64 || rejectedMeans.getDataType() != DataType.FLOAT64) {
            throw new IllegalArgumentException("ORPO's mean log-probabilities must be float64");
        }
        NDArray logOdds = chosenMeans
                .sub(rejectedMeans)
                .sub(logOneMinusExp(chosenMeans).sub(logOneMinusExp(rejectedMeans))); // [B]
        return logOdds.neg().getNDArrayInternal().softPlus().mul(betaArray); // softplus(-x) = -log sigmoid(x)
    }

    /** {@code log(1 - exp(m))} [B]. */
    private NDArray logOneMinusExp(NDArray means) {
        return one.sub(means.exp()).log();
    }

    /** A completion's score from its log-probability sum and token count, kept below 0 (see the class comment). */
    public static double meanLogProb(double sum, double tokens) {
        return Math.min(sum / tokens, MAX_MEAN_LOG_PROB);
    }

    /** {@code log_odds} of one pair in doubles. */
    public static double logOdds(double chosenMean, double rejectedMean) {
        return (chosenMean - rejectedMean) - (Math.log1p(-Math.exp(chosenMean)) - Math.log1p(-Math.exp(rejectedMean)));
    }

    /** Statistics of pairs from their mean log-probabilities (no gradient). */
    public Statistics statistics(double[] chosenMeans, double[] rejectedMeans) {
        double loss = 0;
        double logSigmoid = 0;
        double logOdds = 0;
        int correct = 0;
        double chosen = 0;
        double rejected = 0;
        for (int i = 0; i < chosenMeans.length; i++) {
            double x = logOdds(chosenMeans[i], rejectedMeans[i]);
            double minusLogSigmoid = Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x))); // softplus(-x)
            loss += beta * minusLogSigmoid;
            logSigmoid -= minusLogSigmoid;
            logOdds += x;
            correct += chosenMeans[i] > rejectedMeans[i] ? 1 : 0;
            chosen += chosenMeans[i];
            rejected += rejectedMeans[i];
        }
        return new Statistics(chosenMeans.length, loss, logSigmoid, logOdds, correct, chosen, rejected);
    }

    /**
     * Sums over some pairs; {@link #add} them over a window, then take means. Rewards are {@code beta}
     * times the mean log-probabilities, so they are kept as those.
     *
     * @param loss sum of the odds-ratio losses (beta included)
     * @param logSigmoid sum of {@code log sigmoid(log_odds)}
     * @param logOdds sum of {@code log_odds}
     * @param correct pairs whose chosen mean log-probability is strictly larger
     */
    public record Statistics(
            int pairs, double loss, double logSigmoid, double logOdds, int correct, double chosen, double rejected) {
        public static final Statistics EMPTY = new Statistics(0, 0, 0, 0, 0, 0, 0);

        public Statistics add(Statistics other) {
            return new Statistics(
                    pairs + other.pairs,
                    loss + other.loss,
                    logSigmoid + other.logSigmoid,
                    logOdds + other.logOdds,
                    correct + other.correct,
                    chosen + other.chosen,
                    rejected + other.rejected);
        }

        public double meanLoss() {
            return loss / pairs;
        }

        public double accuracy() {
            return (double) correct / pairs;
        }

        /** TRL's {@code log_odds_ratio}: the mean of {@code log sigmoid(log_odds)}. */
        public double meanLogSigmoid() {
            return logSigmoid / pairs;
        }

        /** TRL's {@code log_odds_chosen}: the mean of {@code log_odds}. */
        public double meanLogOdds() {
            return logOdds / pairs;
        }

        public double meanChosenLogProb() {
            return chosen / pairs;
        }

        public double meanRejectedLogProb() {
            return rejected / pairs;
        }
    }
}
