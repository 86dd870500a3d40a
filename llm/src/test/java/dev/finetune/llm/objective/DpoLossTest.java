package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class DpoLossTest {
    private static final float[] POLICY_CHOSEN = {-3.0f, -10.0f, -2.5f};
    private static final float[] POLICY_REJECTED = {-4.0f, -9.0f, -30.0f};
    private static final float[] REFERENCE_CHOSEN = {-3.5f, -9.5f, -2.0f};
    private static final float[] REFERENCE_REJECTED = {-3.5f, -9.5f, -2.0f};
    private static final double BETA = 0.1;

    @Test
    void lossIsMinusLogSigmoidOfTheScaledDifferenceOfLogRatios() {
        try (NDManager manager = NDManager.newBaseManager()) {
            float[] losses = DpoLoss.losses(
                            manager.create(POLICY_CHOSEN),
                            manager.create(POLICY_REJECTED),
                            manager.create(REFERENCE_CHOSEN),
                            manager.create(REFERENCE_REJECTED),
                            manager.create((float) BETA))
                    .toFloatArray();
            for (int i = 0; i < losses.length; i++) {
                double x = BETA
                        * ((POLICY_CHOSEN[i] - POLICY_REJECTED[i]) - (REFERENCE_CHOSEN[i] - REFERENCE_REJECTED[i]));
                double expected = -Math.log(1 / (1 + Math.exp(-x)));
                assertThat((double) losses[i]).as("pair %d", i).isCloseTo(expected, within(1e-6));
            }
            DpoLoss.Statistics statistics =
                    DpoLoss.Statistics.of(POLICY_CHOSEN, POLICY_REJECTED, REFERENCE_CHOSEN, REFERENCE_REJECTED, BETA);
            assertThat(statistics.meanLoss()).isCloseTo((losses[0] + losses[1] + losses[2]) / 3.0, within(1e-6));
        }
    }

    @Test
    void statisticsAreTheImplicitRewardsTheirMarginAndAccuracy() {
        DpoLoss.Statistics statistics =
                DpoLoss.Statistics.of(POLICY_CHOSEN, POLICY_REJECTED, REFERENCE_CHOSEN, REFERENCE_REJECTED, BETA);
        // rewards chosen: 0.05, -0.05, -0.05; rejected: -0.05, 0.05, -2.8
        assertThat(statistics.meanChosenReward()).isCloseTo(-0.05 / 3, within(1e-6));
        assertThat(statistics.meanRejectedReward()).isCloseTo(-2.8 / 3, within(1e-6));
        assertThat(statistics.accuracy()).isCloseTo(2 / 3.0, within(1e-12));
        assertThat(statistics.margin()).isCloseTo((0.1 - 0.1 + 2.75) / 3, within(1e-6));
        assertThat(statistics.add(statistics).accuracy()).isCloseTo(2 / 3.0, within(1e-12));
        DpoLoss.Statistics untrained =
                DpoLoss.Statistics.of(REFERENCE_CHOSEN, REFERENCE_REJECTED, REFERENCE_CHOSEN, REFERENCE_REJECTED, BETA);
        assertThat(untrained.accuracy())
                .as("policy = reference: no reward is larger")
                .isZero();
        assertThat(untrained.meanLoss()).isCloseTo(Math.log(2), within(1e-9));
    }

    @Test
    void descendingTheLossRaisesChosenAndLowersRejectedLogProbabilities() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray chosen = manager.create(POLICY_CHOSEN);
            NDArray rejected = manager.create(POLICY_REJECTED);
            chosen.setRequiresGradient(true);
            rejected.setRequiresGradient(true);
            NDArray beta = manager.create((float) BETA);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(DpoLoss.losses(
                                chosen,
                                rejected,
                                manager.create(REFERENCE_CHOSEN),
                                manager.create(REFERENCE_REJECTED),
                                beta)
                        .sum());
            }
            float[] dChosen = chosen.getGradient().toFloatArray();
            float[] dRejected = rejected.getGradient().toFloatArray();
            for (int i = 0; i < dChosen.length; i++) {
                double x = BETA
                        * ((POLICY_CHOSEN[i] - POLICY_REJECTED[i]) - (REFERENCE_CHOSEN[i] - REFERENCE_REJECTED[i]));
                double expected = -BETA / (1 + Math.exp(x)); // d/dchosen softplus(-x) = -beta * sigmoid(-x)
                assertThat((double) dChosen[i])
                        .isCloseTo(expected, within(1e-6))
                        .isNegative();
                assertThat((double) dRejected[i])
                        .isCloseTo(-expected, within(1e-6))
                        .isPositive();
            }
        }
    }
}
