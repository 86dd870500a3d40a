package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each loss type against TRL's {@code dpo_loss} formulas written out here in doubles: the per-pair loss
 * and its gradient with respect to the policy's scores (closed-form derivatives, themselves checked
 * by central differences).
 */
class DpoLossTest {
    private static final float[] POLICY_CHOSEN = {-3.0f, -10.0f, -2.5f};
    private static final float[] POLICY_REJECTED = {-4.0f, -9.0f, -30.0f};
    private static final float[] REFERENCE_CHOSEN = {-3.5f, -9.5f, -2.0f};
    private static final float[] REFERENCE_REJECTED = {-3.5f, -9.5f, -2.0f};
    private static final double BETA = 0.1;

    /**
     * Multiples of 1/4 and beta = 1/4, so the differences are exact in fp32; the margins (logits 1, -1,
     * 27.5, -2.5) lie on both sides of the hinge and of IPO's target 1 / (2 beta) = 2.
     */
    private static final float[] CHOSEN = {-3.0f, -10.0f, -2.5f, -6.25f};

    private static final float[] REJECTED = {-4.0f, -9.0f, -30.0f, -5.5f};
    private static final float[] REF_CHOSEN = {-3.5f, -9.5f, -2.0f, -6.0f};
    private static final float[] REF_REJECTED = {-3.5f, -9.5f, -2.0f, -7.75f};
    private static final double QUARTER = 0.25;

    private static final double RELATIVE = 1e-6;

    @Test
    void lossIsMinusLogSigmoidOfTheScaledDifferenceOfLogRatios() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DpoLoss dpo = new DpoLoss(DpoLossType.SIGMOID, BETA, 0, manager);
            float[] losses = dpo.losses(
                            manager.create(POLICY_CHOSEN),
                            manager.create(POLICY_REJECTED),
                            manager.create(REFERENCE_CHOSEN),
                            manager.create(REFERENCE_REJECTED))
                    .toFloatArray();
            for (int i = 0; i < losses.length; i++) {
                double x = BETA
                        * ((POLICY_CHOSEN[i] - POLICY_REJECTED[i]) - (REFERENCE_CHOSEN[i] - REFERENCE_REJECTED[i]));
                double expected = -Math.log(1 / (1 + Math.exp(-x)));
                assertThat((double) losses[i]).as("pair %d", i).isCloseTo(expected, within(1e-6));
            }
            DpoLoss.Statistics statistics =
                    dpo.statistics(POLICY_CHOSEN, POLICY_REJECTED, REFERENCE_CHOSEN, REFERENCE_REJECTED);
            assertThat(statistics.meanLoss()).isCloseTo((losses[0] + losses[1] + losses[2]) / 3.0, within(1e-6));
        }
    }

    /** Without label smoothing the sigmoid loss is computed exactly as before the other types came. */
    @Test
    void sigmoidWithoutLabelSmoothingIsSoftplusOfTheNegatedScaledMarginBitForBit() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray beta = manager.create((float) BETA);
            NDArray chosen = manager.create(POLICY_CHOSEN);
            NDArray rejected = manager.create(POLICY_REJECTED);
            NDArray refChosen = manager.create(REFERENCE_CHOSEN);
            NDArray refRejected = manager.create(REFERENCE_REJECTED);
            float[] before = chosen.sub(rejected)
                    .sub(refChosen.sub(refRejected))
                    .mul(beta)
                    .neg()
                    .getNDArrayInternal()
                    .softPlus()
                    .toFloatArray();
            float[] now = new DpoLoss(DpoLossType.SIGMOID, BETA, 0, manager)
                    .losses(chosen, rejected, refChosen, refRejected)
                    .toFloatArray();
            assertThat(now).containsExactly(before);
        }
    }

    @ParameterizedTest(name = "{0}, label_smoothing {1}")
    @CsvSource({"sigmoid, 0", "sigmoid, 0.125", "sigmoid, 0.375", "robust, 0", "robust, 0.125", "hinge, 0", "ipo, 0"})
    void lossAndItsGradientAreTrlsFormula(String name, double eps) {
        DpoLossType type = DpoLossType.parse(name);
        try (NDManager manager = NDManager.newBaseManager()) {
            DpoLoss dpo = new DpoLoss(type, QUARTER, eps, manager);
            NDArray chosen = manager.create(CHOSEN);
            NDArray rejected = manager.create(REJECTED);
            chosen.setRequiresGradient(true);
            rejected.setRequiresGradient(true);
            float[] losses;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray perPair =
                        dpo.losses(chosen, rejected, manager.create(REF_CHOSEN), manager.create(REF_REJECTED));
                losses = perPair.toFloatArray();
                collector.backward(perPair.sum());
            }
            float[] dChosen = chosen.getGradient().toFloatArray();
            float[] dRejected = rejected.getGradient().toFloatArray();
            double meanLoss = 0;
            for (int i = 0; i < CHOSEN.length; i++) {
                double logits = ((double) CHOSEN[i] - REJECTED[i]) - ((double) REF_CHOSEN[i] - REF_REJECTED[i]);
                double slope = slope(type, logits, QUARTER, eps);
                String what = name + " pair " + i;
                assertClose(slope, centralDifference(type, logits, QUARTER, eps), 1e-7, what + " slope vs differences");
                assertClose(losses[i], loss(type, logits, QUARTER, eps), RELATIVE, what + " loss");
                assertClose(dChosen[i], slope, RELATIVE, what + " d/d chosen"); // d logits / d chosen = 1
                assertClose(dRejected[i], -slope, RELATIVE, what + " d/d rejected"); // d logits / d rejected = -1
                meanLoss += loss(type, logits, QUARTER, eps) / CHOSEN.length;
            }
            assertThat(dpo.statistics(CHOSEN, REJECTED, REF_CHOSEN, REF_REJECTED)
                            .meanLoss())
                    .as("the reported loss")
                    .isCloseTo(meanLoss, within(1e-12 * Math.abs(meanLoss)));
        }
    }

    /**
     * IPO compares mean log-probabilities per completion token: completions of 4 and 3 tokens (pair 0),
     * 2 and 5 (pair 1), so the gradient with respect to a completion's sum is the loss's slope divided
     * by its length.
     */
    @Test
    void ipoScoresEachCompletionByItsMeanTokenLogProbability() {
        List<PreferencePair> pairs = List.of(
                new PreferencePair(new long[] {1, 17, 99}, new long[] {3, 44, 8, 2}, new long[] {120, 31, 2}),
                new PreferencePair(new long[] {1, 64}, new long[] {77, 2}, new long[] {9, 9, 10, 11, 2}));
        float[] tokens = PreferenceBatch.of(pairs, 0).completionTokens();
        assertThat(tokens).containsExactly(4f, 2f, 3f, 5f);
        float[] sums = {-8f, -3f, -6f, -12.5f}; // chosen 0, chosen 1, rejected 0, rejected 1
        PreferenceScores referenceSums = new PreferenceScores(new float[] {-6f, -4f}, new float[] {-6f, -10f});
        try (NDManager manager = NDManager.newBaseManager()) {
            DpoLoss ipo = new DpoLoss(DpoLossType.IPO, QUARTER, 0, manager);
            NDArray rows = manager.create(sums);
            rows.setRequiresGradient(true);
            PreferenceScores reference = ipo.sequenceScores(referenceSums, tokens);
            assertThat(reference.chosen()).containsExactly(-1.5f, -2f);
            assertThat(reference.rejected()).containsExactly(-2f, -2f);
            float[] losses;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray scores = ipo.sequenceScores(rows, manager.create(tokens));
                NDArray perPair = ipo.losses(
                        PreferenceBatch.chosen(scores),
                        PreferenceBatch.rejected(scores),
                        manager.create(reference.chosen()),
                        manager.create(reference.rejected()));
                losses = perPair.toFloatArray();
                collector.backward(perPair.sum());
            }
            float[] gradient = rows.getGradient().toFloatArray();
            double[] lengths = {4, 2, 3, 5};
            for (int i = 0; i < 2; i++) {
                double policyRatio = sums[i] / lengths[i] - sums[2 + i] / lengths[2 + i];
                double referenceRatio =
                        referenceSums.chosen()[i] / lengths[i] - referenceSums.rejected()[i] / lengths[2 + i];
                double logits = policyRatio - referenceRatio;
                double slope = 2 * (logits - 1 / (2 * QUARTER));
                assertClose(losses[i], Math.pow(logits - 1 / (2 * QUARTER), 2), RELATIVE, "pair " + i + " loss");
                assertClose(gradient[i], slope / lengths[i], RELATIVE, "pair " + i + " d/d chosen sum");
                assertClose(gradient[2 + i], -slope / lengths[2 + i], RELATIVE, "pair " + i + " d/d rejected sum");
            }
            DpoLoss sigmoid = new DpoLoss(DpoLossType.SIGMOID, QUARTER, 0, manager);
            assertThat(sigmoid.sequenceScores(rows, manager.create(tokens)))
                    .as("the other losses compare sums")
                    .isSameAs(rows);
        }
    }

    @Test
    void labelSmoothingOutsideItsRangeOrWithALossWithoutItIsRefused() {
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> new DpoLoss(DpoLossType.SIGMOID, BETA, 0.5, manager))
                    .hasMessage("label_smoothing must be in [0, 0.5), got 0.5");
            assertThatThrownBy(() -> new DpoLoss(DpoLossType.ROBUST, BETA, -0.1, manager))
                    .hasMessage("label_smoothing must be in [0, 0.5), got -0.1");
            assertThatThrownBy(() -> new DpoLoss(DpoLossType.HINGE, BETA, 0.1, manager))
                    .hasMessage("label_smoothing applies to loss_type sigmoid and robust, not hinge");
            assertThatThrownBy(() -> new DpoLoss(DpoLossType.IPO, BETA, 0.1, manager))
                    .hasMessage("label_smoothing applies to loss_type sigmoid and robust, not ipo");
        }
        assertThatThrownBy(() -> DpoLossType.parse("kto_pair"))
                .hasMessage("loss_type must be one of sigmoid, robust, hinge, ipo, got \"kto_pair\"");
        assertThat(DpoLossType.parse(" IPO")).isEqualTo(DpoLossType.IPO);
    }

    @Test
    void statisticsAreTheImplicitRewardsTheirMarginAndAccuracy() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DpoLoss dpo = new DpoLoss(DpoLossType.SIGMOID, BETA, 0, manager);
            DpoLoss.Statistics statistics =
                    dpo.statistics(POLICY_CHOSEN, POLICY_REJECTED, REFERENCE_CHOSEN, REFERENCE_REJECTED);
            // rewards chosen: 0.05, -0.05, -0.05; rejected: -0.05, 0.05, -2.8
            assertThat(statistics.meanChosenReward()).isCloseTo(-0.05 / 3, within(1e-6));
            assertThat(statistics.meanRejectedReward()).isCloseTo(-2.8 / 3, within(1e-6));
            assertThat(statistics.accuracy()).isCloseTo(2 / 3.0, within(1e-12));
            assertThat(statistics.margin()).isCloseTo((0.1 - 0.1 + 2.75) / 3, within(1e-6));
            assertThat(statistics.add(statistics).accuracy()).isCloseTo(2 / 3.0, within(1e-12));
            DpoLoss.Statistics untrained =
                    dpo.statistics(REFERENCE_CHOSEN, REFERENCE_REJECTED, REFERENCE_CHOSEN, REFERENCE_REJECTED);
            assertThat(untrained.accuracy())
                    .as("policy = reference: no reward is larger")
                    .isZero();
            assertThat(untrained.meanLoss()).isCloseTo(Math.log(2), within(1e-9));
        }
    }

    @Test
    void descendingTheLossRaisesChosenAndLowersRejectedLogProbabilities() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray chosen = manager.create(POLICY_CHOSEN);
            NDArray rejected = manager.create(POLICY_REJECTED);
            chosen.setRequiresGradient(true);
            rejected.setRequiresGradient(true);
            DpoLoss dpo = new DpoLoss(DpoLossType.SIGMOID, BETA, 0, manager);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(dpo.losses(
                                chosen, rejected, manager.create(REFERENCE_CHOSEN), manager.create(REFERENCE_REJECTED))
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

    /** TRL's {@code dpo_loss} of one pair, in doubles. */
    private static double loss(DpoLossType type, double logits, double beta, double eps) {
        double x = beta * logits;
        double minusLogSigmoidX = Math.log1p(Math.exp(-x)); // -log sigmoid(x)
        double minusLogSigmoidMinusX = Math.log1p(Math.exp(x)); // -log sigmoid(-x)
        switch (type) {
            case SIGMOID:
                return minusLogSigmoidX * (1 - eps) + minusLogSigmoidMinusX * eps;
            case ROBUST:
                return (minusLogSigmoidX * (1 - eps) - minusLogSigmoidMinusX * eps) / (1 - 2 * eps);
            case HINGE:
                return Math.max(0, 1 - x);
            case IPO:
                return (logits - 1 / (2 * beta)) * (logits - 1 / (2 * beta));
            default:
                throw new AssertionError(type);
        }
    }

    /** d loss / d logits in closed form. */
    private static double slope(DpoLossType type, double logits, double beta, double eps) {
        double x = beta * logits;
        double sigmoidX = 1 / (1 + Math.exp(-x));
        double sigmoidMinusX = 1 / (1 + Math.exp(x));
        switch (type) {
            case SIGMOID:
                return beta * (-sigmoidMinusX * (1 - eps) + sigmoidX * eps);
            case ROBUST:
                return beta * (-sigmoidMinusX * (1 - eps) - sigmoidX * eps) / (1 - 2 * eps);
            case HINGE:
                return 1 - x > 0 ? -beta : 0;
            case IPO:
                return 2 * (logits - 1 / (2 * beta));
            default:
                throw new AssertionError(type);
        }
    }

    private static double centralDifference(DpoLossType type, double logits, double beta, double eps) {
        double h = 1e-5;
        return (loss(type, logits + h, beta, eps) - loss(type, logits - h, beta, eps)) / (2 * h);
    }

    private static void assertClose(double actual, double expected, double relative, String what) {
        assertThat(actual).as(what).isCloseTo(expected, within(relative * Math.abs(expected) + 1e-12));
    }
}
