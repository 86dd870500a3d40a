package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PPO's arithmetic against TRL's {@code PPOTrainer} formulas, computed here by hand or written out
 * independently (closed forms instead of the recursion) on fixed numbers: per-token KL and rewards with
 * the score at the last token, GAE on a 3-token completion, whitening, the clipped policy and value
 * losses with their gradients, and the adaptive KL controller's update.
 */
class PpoLossTest {
    private static final double CLIPRANGE = 0.2;
    private static final double CLIPRANGE_VALUE = 0.2;
    private static final double VF_COEF = 0.1;

    @Test
    void k1PenalisesEachTokenAndTheScoreLandsOnTheLastToken() {
        double[] logp = {-1.0, -2.0, -0.5};
        double[] ref = {-1.5, -1.0, -0.5};
        PpoLoss.TokenRewards rewards = PpoLoss.tokenRewards(logp, ref, 2.0, 0.1, KlEstimator.K1);
        // k1 = logp - ref: 0.5, -1, 0; rewards -0.1 k1, the score 2 on the last
        assertThat(rewards.kl()).containsExactly(new double[] {0.5, -1.0, 0.0}, within(1e-12));
        assertThat(rewards.rewards()).containsExactly(new double[] {-0.05, 0.1, 2.0}, within(1e-12));
    }

    @Test
    void k3IsNeverNegativeAndZeroWhereThePolicyIsTheReference() {
        double[] logp = {-1.0, -2.0, -0.5, -3.0};
        double[] ref = {-1.5, -1.0, -0.5, -1.0};
        PpoLoss.TokenRewards rewards = PpoLoss.tokenRewards(logp, ref, -1.0, 0.5, KlEstimator.K3);
        double[] expected = {
            Math.exp(-0.5) - 1 + 0.5, // r = ref - logp = -0.5
            Math.E - 1 - 1, // r = 1
            0, // r = 0
            Math.exp(2) - 1 - 2 // r = 2
        };
        assertThat(rewards.kl()).containsExactly(expected, within(1e-12));
        for (double kl : rewards.kl()) {
            assertThat(kl).isGreaterThanOrEqualTo(0);
        }
        assertThat(rewards.rewards())
                .containsExactly(
                        new double[] {-0.5 * expected[0], -0.5 * expected[1], 0, -0.5 * expected[3] - 1.0},
                        within(1e-12));
    }

    /** Worked by hand: gamma 0.9, lambda 0.8, gamma lambda = 0.72. */
    @Test
    void gaeOfAThreeTokenCompletionIsTheHandComputedOne() {
        double[] rewards = {-0.1, 0.05, 1.0};
        double[] values = {0.2, 0.4, 0.6};
        // delta_2 = 1.0 + 0.9 * 0 - 0.6 = 0.4 (the completion ends: the next state is worth 0)
        // delta_1 = 0.05 + 0.9 * 0.6 - 0.4 = 0.19
        // delta_0 = -0.1 + 0.9 * 0.4 - 0.2 = 0.06
        // A_2 = 0.4; A_1 = 0.19 + 0.72 * 0.4 = 0.478; A_0 = 0.06 + 0.72 * 0.478 = 0.40416
        double[] advantages = PpoLoss.advantages(rewards, values, 0.9, 0.8);
        assertThat(advantages).containsExactly(new double[] {0.40416, 0.478, 0.4}, within(1e-12));

        // gamma = lambda = 1: every advantage is the return-to-go minus the value (Monte Carlo)
        double[] monteCarlo = PpoLoss.advantages(rewards, values, 1.0, 1.0);
        assertThat(monteCarlo).containsExactly(new double[] {0.95 - 0.2, 1.05 - 0.4, 1.0 - 0.6}, within(1e-12));
        // lambda = 0: one-step TD errors
        assertThat(PpoLoss.advantages(rewards, values, 0.9, 0.0))
                .containsExactly(new double[] {0.06, 0.19, 0.4}, within(1e-12));
    }

    @Test
    void whiteningCentresAndScalesOverEveryTokenOfTheBatch() {
        double[] first = {1, 2, 3};
        double[] second = {4};
        PpoLoss.whiten(List.of(first, second));
        double scale = 1 / Math.sqrt(5.0 / 3 + 1e-8); // mean 2.5; unbiased variance (2.25 + 0.25 + 0.25 + 2.25) / 3
        assertThat(first).containsExactly(new double[] {-1.5 * scale, -0.5 * scale, 0.5 * scale}, within(1e-12));
        assertThat(second).containsExactly(new double[] {1.5 * scale}, within(1e-12));
    }

    @Test
    void aBatchOfOneTokenWhitensToZeroInsteadOfFailingTheJob() {
        double[] only = {0.7};
        PpoLoss.whiten(List.of(only));
        assertThat(only).containsExactly(0.0);
    }

    /**
     * Five tokens, one in each region of the clip: a ratio above 1 + cliprange with A > 0 and below 1 -
     * cliprange with A < 0 are clipped (no gradient), the others are not.
     */
    @Test
    void clippedPolicyLossAndItsGradientAreTrls() {
        double[] logRatio = {Math.log(1.5), Math.log(1.5), Math.log(0.5), Math.log(0.5), 0.0};
        float[] advantages = {1.0f, -1.0f, 2.0f, -0.5f, 0.75f};
        float[] old = {-1.0f, -2.0f, -0.5f, -3.0f, -1.25f};
        float[] logp = new float[5];
        for (int t = 0; t < 5; t++) {
            logp[t] = (float) (old[t] + logRatio[t]);
        }
        float[] mask = {1, 1, 1, 1, 0}; // the last is padding
        int tokens = 4;
        try (NDManager manager = NDManager.newBaseManager()) {
            PpoLoss ppo = new PpoLoss(CLIPRANGE, CLIPRANGE_VALUE, 0.0, manager);
            NDArray policy = manager.create(logp).reshape(1, 5);
            policy.setRequiresGradient(true);
            NDArray values = manager.create(new float[5]).reshape(1, 5);
            float loss;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray value = ppo.loss(
                        policy,
                        manager.create(old).reshape(1, 5),
                        manager.create(advantages).reshape(1, 5),
                        values,
                        values,
                        values,
                        manager.create(mask).reshape(1, 5),
                        manager.create(1f / tokens));
                loss = value.getFloat();
                collector.backward(value);
            }
            float[] gradient = policy.getGradient().toFloatArray();
            double expected = 0;
            for (int t = 0; t < 5; t++) {
                double ratio = Math.exp((double) logp[t] - old[t]);
                double a = advantages[t];
                double unclipped = -a * ratio;
                double clipped = -a * Math.min(1 + CLIPRANGE, Math.max(1 - CLIPRANGE, ratio));
                expected += mask[t] * Math.max(unclipped, clipped) / tokens;
                // d/dlogp of -A ratio is -A ratio; the clipped branch is constant in logp
                boolean clipDecides = clipped > unclipped;
                double grad = mask[t] * (clipDecides ? 0 : -a * ratio) / tokens;
                assertThat((double) gradient[t]).as("gradient of token %d", t).isCloseTo(grad, within(1e-6));
            }
            assertThat((double) loss).isCloseTo(expected, within(1e-6));
            assertThat(gradient[0]).as("ratio 1.5, A > 0: clipped").isZero();
            assertThat(gradient[3]).as("ratio 0.5, A < 0: clipped").isZero();
            assertThat((double) gradient[1]).as("ratio 1.5, A < 0: not clipped").isCloseTo(1.5 / 4, within(1e-6));
            assertThat(ppo.policyClipped(1.5, 1.0)).isTrue();
            assertThat(ppo.policyClipped(1.5, -1.0)).isFalse();
            assertThat(ppo.policyClipped(0.5, -0.5)).isTrue();
            assertThat(ppo.policyClipped(0.5, 2.0)).isFalse();
        }
    }

    @Test
    void clippedValueLossAndItsGradientAreTrls() {
        float[] oldValues = {0.0f, 0.0f, 1.0f, 1.0f};
        float[] predicted = {0.5f, 0.1f, 0.5f, 1.3f};
        float[] returns = {1.0f, -1.0f, 2.0f, 1.0f};
        int tokens = 4;
        try (NDManager manager = NDManager.newBaseManager()) {
            PpoLoss ppo = new PpoLoss(CLIPRANGE, CLIPRANGE_VALUE, VF_COEF, manager);
            NDArray values = manager.create(predicted).reshape(1, 4);
            values.setRequiresGradient(true);
            NDArray zeros = manager.create(new float[4]).reshape(1, 4);
            float loss;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray value = ppo.loss(
                        zeros,
                        zeros,
                        zeros,
                        values,
                        manager.create(oldValues).reshape(1, 4),
                        manager.create(returns).reshape(1, 4),
                        manager.create(new float[] {1, 1, 1, 1}).reshape(1, 4),
                        manager.create(1f / tokens));
                loss = value.getFloat();
                collector.backward(value);
            }
            float[] gradient = values.getGradient().toFloatArray();
            // by hand, cliprange_value 0.2:
            // 0: v 0.5 -> clipped 0.2, R 1: (0.5-1)^2 = 0.25 vs (0.2-1)^2 = 0.64: the clipped one, gradient 0
            // 1: v 0.1 within the clip, R -1: 1.21 both, gradient 0.1 * 0.5 * 2 * 1.1 / 4
            // 2: v 0.5 -> clipped 0.8, R 2: 2.25 vs 1.44: the unclipped one, gradient 0.1 * (0.5 - 2) / 4
            // 3: v 1.3 -> clipped 1.2, R 1: 0.09 vs 0.04: the unclipped one, gradient 0.1 * 0.3 / 4
            double expectedLoss = VF_COEF * 0.5 * (0.64 + 1.21 + 2.25 + 0.09) / tokens;
            assertThat((double) loss).isCloseTo(expectedLoss, within(1e-6));
            assertThat((double) gradient[0]).isCloseTo(0, within(1e-7));
            assertThat((double) gradient[1]).isCloseTo(VF_COEF * 1.1 / tokens, within(1e-6));
            assertThat((double) gradient[2]).isCloseTo(VF_COEF * -1.5 / tokens, within(1e-6));
            assertThat((double) gradient[3]).isCloseTo(VF_COEF * 0.3 / tokens, within(1e-6));
            assertThat(ppo.valueClipped(0.5, 0.0, 1.0)).isTrue();
            assertThat(ppo.valueClipped(0.5, 1.0, 2.0)).isFalse();
        }
    }

    @Test
    void adaptiveKlControllerMovesTheCoefficientTowardsTheTarget() {
        AdaptiveKlController above = new AdaptiveKlController(0.1, true, 6, 10_000);
        above.update(6.6, 256); // error 0.1
        assertThat(above.value()).isCloseTo(0.1 * (1 + 0.1 * 256 / 10_000.0), within(1e-15));
        above.update(60, 256); // error clipped to 0.2
        assertThat(above.value())
                .isCloseTo(0.1 * (1 + 0.1 * 256 / 10_000.0) * (1 + 0.2 * 256 / 10_000.0), within(1e-15));

        AdaptiveKlController below = new AdaptiveKlController(0.1, true, 6, 10_000);
        below.update(0, 1000); // error clipped to -0.2
        assertThat(below.value()).isCloseTo(0.1 * (1 - 0.2 * 1000 / 10_000.0), within(1e-15));

        AdaptiveKlController fixed = new AdaptiveKlController(0.1, false, 6, 10_000);
        fixed.update(60, 256);
        assertThat(fixed.value()).isEqualTo(0.1);
    }
}
