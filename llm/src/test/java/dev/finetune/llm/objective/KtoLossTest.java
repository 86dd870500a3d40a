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
 * KTO's loss against TRL's {@code kto_loss} written out here in doubles: the KL estimate (mean of the
 * KL rows' log-ratios, clamped at 0), each example's weighted loss, its gradient with respect to the
 * policy's log-probability (closed form, itself checked by central differences; the KL is a constant),
 * and the statistics TRL logs.
 */
class KtoLossTest {
    private static final double BETA = 0.25;
    private static final double DESIRABLE_WEIGHT = 1.5;
    private static final double UNDESIRABLE_WEIGHT = 0.75;

    /** Summed completion log-probabilities; multiples of 1/4, exact in fp32. */
    private static final float[] POLICY = {-3.0f, -10.0f, -2.5f, -6.25f, -8.0f};

    private static final float[] REFERENCE = {-3.5f, -9.5f, -2.0f, -6.0f, -12.0f};
    private static final boolean[] DESIRABLE = {true, true, false, false, true};
    private static final float[] POLICY_KL = {-7.0f, -5.0f, -9.0f, -4.0f, -6.0f};
    private static final float[] REFERENCE_KL = {-7.5f, -5.5f, -8.0f, -4.25f, -6.5f};
    private static final double TOLERANCE = 1e-6;

    @Test
    void theKlEstimateIsTheMeanLogRatioOfTheKlRowsClampedAtZero() {
        // log-ratios 0.5, 0.5, -1, 0.25, 0.5: mean 0.75 / 5
        assertThat(KtoLoss.klEstimate(POLICY_KL, REFERENCE_KL)).isCloseTo(0.15, within(1e-12));
        assertThat(KtoLoss.klEstimate(REFERENCE_KL, POLICY_KL))
                .as("-0.15 clamped")
                .isZero();
    }

    @Test
    void lossAndItsGradientAreTrlsFormula() {
        double kl = KtoLoss.klEstimate(POLICY_KL, REFERENCE_KL);
        try (NDManager manager = NDManager.newBaseManager()) {
            KtoLoss kto = new KtoLoss(BETA, DESIRABLE_WEIGHT, UNDESIRABLE_WEIGHT, manager);
            NDArray policy = manager.create(POLICY);
            policy.setRequiresGradient(true);
            float[] losses;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray perExample = kto.losses(policy, manager.create(REFERENCE), DESIRABLE, kl, manager);
                losses = perExample.toFloatArray();
                collector.backward(perExample.sum());
            }
            float[] gradient = policy.getGradient().toFloatArray();
            double meanLoss = 0;
            for (int i = 0; i < POLICY.length; i++) {
                double r = (double) POLICY[i] - REFERENCE[i];
                String what = "example " + i;
                double expected = loss(r, DESIRABLE[i], kl);
                // d/dr w (1 - sigmoid(s beta (r - KL))) = -w s beta sigmoid'(x), sigmoid' = sigmoid (1 - sigmoid)
                double sign = DESIRABLE[i] ? 1 : -1;
                double x = sign * BETA * (r - kl);
                double sigmoid = 1 / (1 + Math.exp(-x));
                double slope = -weight(DESIRABLE[i]) * sign * BETA * sigmoid * (1 - sigmoid);
                double h = 1e-5;
                assertClose(
                        slope,
                        (loss(r + h, DESIRABLE[i], kl) - loss(r - h, DESIRABLE[i], kl)) / (2 * h),
                        1e-6,
                        what + " slope vs differences");
                assertClose(losses[i], expected, TOLERANCE, what + " loss");
                assertClose(gradient[i], slope, TOLERANCE, what + " d/d policy");
                assertThat(gradient[i] < 0)
                        .as(what + ": descending raises a desirable completion, lowers an undesirable one")
                        .isEqualTo(DESIRABLE[i]);
                meanLoss += expected / POLICY.length;
            }
            KtoLoss.Statistics statistics = kto.statistics(POLICY, REFERENCE, DESIRABLE, kl);
            assertThat(statistics.meanLoss()).as("the reported loss").isCloseTo(meanLoss, within(1e-12));
            // desirable log-ratios 0.5, -0.5, 4; undesirable -0.5, -0.25
            assertThat(statistics.meanDesirableReward()).isCloseTo(BETA * 4 / 3, within(1e-12));
            assertThat(statistics.meanUndesirableReward()).isCloseTo(BETA * -0.375, within(1e-12));
            assertThat(statistics.meanDesirableLogProb()).isCloseTo(-21.0 / 3, within(1e-12));
            assertThat(statistics.add(statistics).meanKl()).isCloseTo(kl, within(1e-12));
        }
    }

    @Test
    void atTheReferenceEveryExampleLosesHalfItsWeight() {
        try (NDManager manager = NDManager.newBaseManager()) {
            KtoLoss kto = new KtoLoss(BETA, DESIRABLE_WEIGHT, UNDESIRABLE_WEIGHT, manager);
            float[] losses = kto.losses(manager.create(REFERENCE), manager.create(REFERENCE), DESIRABLE, 0, manager)
                    .toFloatArray();
            for (int i = 0; i < losses.length; i++) {
                assertThat((double) losses[i]).isCloseTo(weight(DESIRABLE[i]) / 2, within(1e-7));
            }
            assertThatThrownBy(() -> new KtoLoss(BETA, 0, 1, manager))
                    .hasMessage("desirable_weight and undesirable_weight must be > 0, got 0.0 and 1.0");
        }
    }

    /** TRL's per-example loss: w (1 - sigmoid(beta (r - KL))) desirable, w (1 - sigmoid(beta (KL - r))) not. */
    private static double loss(double r, boolean desirable, double kl) {
        double x = desirable ? BETA * (r - kl) : BETA * (kl - r);
        return weight(desirable) * (1 - 1 / (1 + Math.exp(-x)));
    }

    private static double weight(boolean desirable) {
        return desirable ? DESIRABLE_WEIGHT : UNDESIRABLE_WEIGHT;
    }

    private static void assertClose(double actual, double expected, double relative, String what) {
        assertThat(actual).as(what).isCloseTo(expected, within(relative * Math.abs(expected) + 1e-12));
    }
}
