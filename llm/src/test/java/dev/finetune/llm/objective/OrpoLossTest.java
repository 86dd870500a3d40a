package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * ORPO's odds-ratio term against TRL's {@code odds_ratio_loss} written out here in doubles: each pair's
 * loss, its gradient with respect to both mean log-probabilities (closed form, itself checked by
 * central differences), and the statistics TRL logs.
 */
class OrpoLossTest {
    private static final double BETA = 0.25;
    /** Mean log-probabilities per token: likely and unlikely completions, either one ahead, and one near 0. */
    private static final double[] CHOSEN = {-0.5, -2.0, -1.25, -0.001, -3.0};

    private static final double[] REJECTED = {-1.5, -0.75, -1.25, -4.0, -0.002};
    private static final double TOLERANCE = 1e-6;

    @Test
    void lossAndItsGradientAreTrlsOddsRatioFormula() {
        try (NDManager manager = NDManager.newBaseManager()) {
            OrpoLoss orpo = new OrpoLoss(BETA, manager);
            NDArray chosen = manager.create(CHOSEN);
            NDArray rejected = manager.create(REJECTED);
            chosen.setRequiresGradient(true);
            rejected.setRequiresGradient(true);
            double[] losses;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray perPair = orpo.losses(chosen, rejected);
                losses = perPair.toDoubleArray();
                collector.backward(perPair.sum());
            }
            double[] dChosen = chosen.getGradient().toDoubleArray();
            double[] dRejected = rejected.getGradient().toDoubleArray();
            for (int i = 0; i < CHOSEN.length; i++) {
                double c = CHOSEN[i];
                double r = REJECTED[i];
                String what = "pair " + i;
                // d/dc: -beta sigmoid(-x) dx/dc with dx/dc = 1 + e^c / (1 - e^c) = 1 / (1 - e^c); likewise r
                double x = logOdds(c, r);
                double slope = -BETA / (1 + Math.exp(x)); // d loss / d x
                double expectedChosen = slope / (1 - Math.exp(c));
                double expectedRejected = -slope / (1 - Math.exp(r));
                double h = 1e-6;
                double differences = 1e-5; // central differences of a gradient near 1e-6 keep about 5 digits
                assertClose(
                        expectedChosen,
                        (loss(c + h, r) - loss(c - h, r)) / (2 * h),
                        differences,
                        what + " d/d chosen vs differences");
                assertClose(
                        expectedRejected,
                        (loss(c, r + h) - loss(c, r - h)) / (2 * h),
                        differences,
                        what + " d/d rejected vs differences");
                assertClose(losses[i], loss(c, r), TOLERANCE, what + " loss");
                assertClose(dChosen[i], expectedChosen, TOLERANCE, what + " d/d chosen");
                assertClose(dRejected[i], expectedRejected, TOLERANCE, what + " d/d rejected");
            }
            assertThat(dChosen[0]).as("descending raises the chosen completion").isNegative();
            assertThat(dRejected[0]).as("and lowers the rejected one").isPositive();
        }
    }

    @Test
    void statisticsAreTrlsLoggedValues() {
        try (NDManager manager = NDManager.newBaseManager()) {
            OrpoLoss.Statistics statistics = new OrpoLoss(BETA, manager).statistics(CHOSEN, REJECTED);
            double loss = 0;
            double logSigmoid = 0;
            double logOdds = 0;
            for (int i = 0; i < CHOSEN.length; i++) {
                double x = logOdds(CHOSEN[i], REJECTED[i]);
                loss += loss(CHOSEN[i], REJECTED[i]) / CHOSEN.length;
                logSigmoid += Math.log(1 / (1 + Math.exp(-x))) / CHOSEN.length;
                logOdds += x / CHOSEN.length;
            }
            assertThat(statistics.meanLoss()).isCloseTo(loss, within(1e-12));
            assertThat(statistics.meanLogSigmoid()).as("log_odds_ratio").isCloseTo(logSigmoid, within(1e-12));
            assertThat(statistics.meanLogOdds()).as("log_odds_chosen").isCloseTo(logOdds, within(1e-12));
            assertThat(statistics.accuracy())
                    .as("pairs 0 and 3: chosen ahead; 2 is a tie")
                    .isEqualTo(0.4);
            assertThat(statistics.meanChosenLogProb()).isCloseTo(-6.751 / 5, within(1e-12));
            assertThat(statistics.add(statistics).accuracy()).isEqualTo(0.4);
        }
    }

    @Test
    void aCompletionTheModelIsSureOfKeepsFiniteOdds() {
        assertThat(OrpoLoss.meanLogProb(-6, 4)).isEqualTo(-1.5);
        assertThat(OrpoLoss.meanLogProb(0, 4)).isEqualTo(OrpoLoss.MAX_MEAN_LOG_PROB);
        try (NDManager manager = NDManager.newBaseManager()) {
            double[] losses = new OrpoLoss(BETA, manager)
                    .losses(manager.create(new double[] {OrpoLoss.MAX_MEAN_LOG_PROB}), manager.create(new double[] {-1.0
                    }))
                    .toDoubleArray();
            assertThat(losses[0]).isFinite().isCloseTo(loss(OrpoLoss.MAX_MEAN_LOG_PROB, -1), within(1e-9));
            assertThatThrownBy(() -> new OrpoLoss(0, manager)).hasMessage("beta must be > 0, got 0.0");
            assertThatThrownBy(() -> new OrpoLoss(BETA, manager)
                            .losses(manager.create(new float[] {-1f}), manager.create(new float[] {-2f})))
                    .hasMessageContaining("float64");
        }
    }

    /** TRL's log odds: (c - r) - (log1p(-exp(c)) - log1p(-exp(r))). */
    private static double logOdds(double c, double r) {
        return (c - r) - (Math.log1p(-Math.exp(c)) - Math.log1p(-Math.exp(r)));
    }

    /** beta * -log sigmoid(log odds). */
    private static double loss(double c, double r) {
        return -BETA * Math.log(1 / (1 + Math.exp(-logOdds(c, r))));
    }

    private static void assertClose(double actual, double expected, double relative, String what) {
        assertThat(actual).as(what).isCloseTo(expected, within(relative * Math.abs(expected) + 1e-12));
    }
}
