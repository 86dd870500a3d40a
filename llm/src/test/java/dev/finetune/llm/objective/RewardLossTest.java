package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * The reward model's Bradley-Terry loss against TRL's RewardTrainer written out here in doubles:
 * {@code -log sigmoid(c - r - m) + k (c + r)^2} per pair, its gradient with respect to both scores, and
 * the metrics TRL logs.
 */
class RewardLossTest {
    /** Scores [B]: chosen ahead, behind, tied, far ahead and far behind (the stable softplus branches). */
    private static final float[] CHOSEN = {1.5f, -0.25f, 0.75f, 30f, -12f};

    private static final float[] REJECTED = {0.5f, 1.0f, 0.75f, -1f, 25f};
    private static final float[] MARGINS = {0f, 0.5f, 1.0f, 0f, 2f};
    private static final double TOLERANCE = 1e-5;

    @Test
    void lossAndGradientAreTheBradleyTerryFormulaWithMarginsAndCentering() {
        for (double k : new double[] {0, 0.01, 0.5}) {
            try (NDManager manager = NDManager.newBaseManager()) {
                RewardLoss reward = new RewardLoss(k, manager);
                NDArray chosen = manager.create(CHOSEN);
                NDArray rejected = manager.create(REJECTED);
                chosen.setRequiresGradient(true);
                rejected.setRequiresGradient(true);
                double[] losses;
                double mean;
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray perPair = reward.losses(chosen, rejected, manager.create(MARGINS));
                    losses = toDoubles(perPair.toFloatArray());
                    NDArray meanLoss = perPair.sum().div(manager.create((float) CHOSEN.length));
                    mean = meanLoss.getFloat();
                    collector.backward(meanLoss);
                }
                double[] dChosen = toDoubles(chosen.getGradient().toFloatArray());
                double[] dRejected = toDoubles(rejected.getGradient().toFloatArray());
                double expectedMean = 0;
                for (int i = 0; i < CHOSEN.length; i++) {
                    double c = CHOSEN[i];
                    double r = REJECTED[i];
                    double x = c - r - MARGINS[i];
                    double sigmoid = 1 / (1 + Math.exp(-x));
                    double expected = -Math.log(sigmoid) + k * (c + r) * (c + r);
                    expectedMean += expected / CHOSEN.length;
                    String what = "pair " + i + ", coefficient " + k;
                    assertThat(losses[i]).as(what).isCloseTo(expected, within(TOLERANCE * Math.max(1, expected)));
                    assertThat(reward.loss(c, r, MARGINS[i]))
                            .as(what + " in doubles")
                            .isCloseTo(expected, within(1e-12 * Math.max(1, expected)));
                    // d/dc = -(1 - sigmoid(x)) + 2k(c + r); d/dr = (1 - sigmoid(x)) + 2k(c + r); over the mean: / B
                    double centre = 2 * k * (c + r);
                    assertThat(dChosen[i])
                            .as(what + " d/d chosen")
                            .isCloseTo((-(1 - sigmoid) + centre) / CHOSEN.length, within(TOLERANCE));
                    assertThat(dRejected[i])
                            .as(what + " d/d rejected")
                            .isCloseTo(((1 - sigmoid) + centre) / CHOSEN.length, within(TOLERANCE));
                }
                assertThat(mean).as("mean, coefficient " + k).isCloseTo(expectedMean, within(TOLERANCE * expectedMean));
            }
        }
    }

    @Test
    void statisticsAreTrlsAccuracyMarginAndRewardRange() {
        double[] chosen = toDoubles(CHOSEN);
        double[] rejected = toDoubles(REJECTED);
        double[] losses = {1, 2, 3, 4, 5};
        RewardLoss.Statistics all = RewardLoss.Statistics.EMPTY
                .add(
                        java.util.Arrays.copyOfRange(chosen, 0, 2),
                        java.util.Arrays.copyOfRange(rejected, 0, 2),
                        new double[] {1, 2})
                .add(
                        java.util.Arrays.copyOfRange(chosen, 2, 5),
                        java.util.Arrays.copyOfRange(rejected, 2, 5),
                        new double[] {3, 4, 5});
        assertThat(all.pairs()).isEqualTo(5);
        assertThat(all.accuracy())
                .as("1.5 > 0.5 and 30 > -1; a tie is not a win")
                .isEqualTo(2.0 / 5);
        assertThat(all.meanMargin()).isCloseTo((1.0 - 1.25 + 0 + 31 - 37) / 5, within(1e-12));
        assertThat(all.meanLoss()).isCloseTo(3.0, within(1e-12));
        assertThat(all.min()).isEqualTo(-12.0);
        assertThat(all.max()).isEqualTo(30.0);
        double sum = 0;
        for (int i = 0; i < 5; i++) {
            sum += chosen[i] + rejected[i];
        }
        assertThat(all.meanReward()).isCloseTo(sum / 10, within(1e-12));
        assertThat(losses).hasSize(5);
    }

    private static double[] toDoubles(float[] values) {
        double[] doubles = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            doubles[i] = values[i];
        }
        return doubles;
    }
}
