package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * GRPO's advantages, k3 KL and loss against TRL's {@code GRPOTrainer} formulas written out here in
 * doubles on fixed log-probabilities: each loss_type over a window of two micro-batches (their shares
 * must add up to the window's loss as TRL defines it), and the gradient with respect to each token's
 * log-probability, clipped and unclipped tokens included.
 */
class GrpoLossTest {
    private static final double BETA = 0.3;
    private static final double EPSILON = 0.2;
    private static final double EPSILON_HIGH = 0.28;
    private static final int MAX_COMPLETION_LENGTH = 5;

    /** Two micro-batches of 3 completions, 4 positions each; the mask gives lengths 4, 2, 3 and 1, 4, 2. */
    private static final float[][][] LOGP = {
        {{-1.0f, -2.0f, -0.5f, -3.0f}, {-0.25f, -1.5f, -9f, -9f}, {-2.5f, -0.75f, -1.25f, -9f}},
        {{-0.5f, -9f, -9f, -9f}, {-1.75f, -2.25f, -0.125f, -1.0f}, {-3.5f, -0.625f, -9f, -9f}}
    };
    /** Where the completions were sampled: the ratio exp(logp - old) ranges from 0.47 to 1.65. */
    private static final float[][][] OLD = {
        {{-1.0f, -2.5f, -0.25f, -3.0f}, {-0.75f, -1.5f, -9f, -9f}, {-2.0f, -0.75f, -1.5f, -9f}},
        {{-0.25f, -9f, -9f, -9f}, {-1.75f, -1.5f, -0.5f, -1.0f}, {-3.0f, -0.5f, -9f, -9f}}
    };

    private static final float[][][] REF = {
        {{-1.25f, -1.5f, -0.5f, -2.5f}, {-0.5f, -1.0f, -9f, -9f}, {-2.0f, -1.0f, -1.0f, -9f}},
        {{-0.75f, -9f, -9f, -9f}, {-1.5f, -2.0f, -0.25f, -1.5f}, {-3.0f, -0.5f, -9f, -9f}}
    };
    private static final int[][] LENGTHS = {{4, 2, 3}, {1, 4, 2}};
    private static final float[][] ADVANTAGES = {{1.0f, -0.5f, 0.75f}, {-1.25f, 0.5f, -0.25f}};

    @Test
    void advantagesAreRewardsMinusTheGroupMeanOverTheUnbiasedGroupStd() {
        double[] rewards = {1, 0, 0, 1, 0.5, 0.5, 0.5, 0.5, 2, -1, 0.25, 3};
        for (boolean scale : new boolean[] {true, false}) {
            double[] advantages = GrpoLoss.advantages(rewards, 4, scale);
            for (int g = 0; g < 3; g++) {
                double mean = 0;
                for (int i = 0; i < 4; i++) {
                    mean += rewards[4 * g + i] / 4;
                }
                double squares = 0;
                for (int i = 0; i < 4; i++) {
                    squares += Math.pow(rewards[4 * g + i] - mean, 2);
                }
                double std = Math.sqrt(squares / 3); // torch.std: Bessel's correction
                for (int i = 0; i < 4; i++) {
                    double expected = (rewards[4 * g + i] - mean) / (scale ? std + 1e-4 : 1);
                    assertThat(advantages[4 * g + i])
                            .as("scale %s, group %d", scale, g)
                            .isCloseTo(expected, within(1e-12));
                }
            }
            assertThat(new double[] {advantages[4], advantages[5], advantages[6], advantages[7]})
                    .as("a group of equal rewards teaches nothing")
                    .containsOnly(0.0);
        }
        assertThat(GrpoLoss.advantages(rewards, 4, true)[0])
                .isCloseTo(0.5 / (Math.sqrt(1.0 / 3) + 1e-4), within(1e-12));
        assertThatThrownBy(() -> GrpoLoss.advantages(rewards, 5, true)).hasMessageContaining("groups of 5");
    }

    @Test
    void klIsTheK3EstimatorWithItsGradient() {
        float[] logp = {-1.0f, -2.0f, -0.5f, -3.0f};
        float[] ref = {-1.25f, -1.5f, -0.5f, -4.0f};
        try (NDManager manager = NDManager.newBaseManager()) {
            GrpoLoss grpo = new GrpoLoss(BETA, EPSILON, EPSILON_HIGH, manager);
            NDArray policy = manager.create(logp);
            policy.setRequiresGradient(true);
            float[] kl;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray perToken = grpo.perTokenKl(policy, manager.create(ref));
                kl = perToken.toFloatArray();
                collector.backward(perToken.sum());
            }
            float[] gradient = policy.getGradient().toFloatArray();
            for (int t = 0; t < logp.length; t++) {
                double d = (double) ref[t] - logp[t];
                assertThat((double) kl[t]).as("kl %d", t).isCloseTo(Math.exp(d) - d - 1, within(1e-6));
                assertThat((double) gradient[t]).as("d kl / d logp %d", t).isCloseTo(1 - Math.exp(d), within(1e-6));
            }
            assertThat(kl[2]).as("policy = reference").isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(GrpoLossType.class)
    void eachLossTypeAndItsGradientAreTrlsOverTheWindow(GrpoLossType type) {
        GrpoLoss.Window window = new GrpoLoss.Window(6, 16, 2, MAX_COMPLETION_LENGTH);
        double total = 0;
        try (NDManager manager = NDManager.newBaseManager()) {
            GrpoLoss grpo = new GrpoLoss(BETA, EPSILON, EPSILON_HIGH, manager);
            for (int b = 0; b < 2; b++) {
                NDArray policy = manager.create(LOGP[b]);
                policy.setRequiresGradient(true);
                float[] weights = GrpoLoss.rowWeights(type, LENGTHS[b], window);
                double value;
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = grpo.loss(
                            policy,
                            manager.create(OLD[b]),
                            manager.create(REF[b]),
                            manager.create(ADVANTAGES[b]),
                            manager.create(mask(LENGTHS[b])),
                            manager.create(weights));
                    value = loss.getFloat();
                    collector.backward(loss);
                }
                total += value;
                float[][] gradient = reshape(policy.getGradient().toFloatArray());
                for (int i = 0; i < 3; i++) {
                    for (int t = 0; t < 4; t++) {
                        double expected = t < LENGTHS[b][i] ? tokenGradient(b, i, t) * rowNormaliser(type, b, i) : 0;
                        assertThat((double) gradient[i][t])
                                .as("%s: d loss / d logp of micro-batch %d, row %d, token %d", type, b, i, t)
                                .isCloseTo(expected, within(1e-6));
                    }
                }
            }
        }
        assertThat(total)
                .as(type + ": the micro-batches' shares add up to the window's loss")
                .isCloseTo(windowLoss(type), within(1e-6));
    }

    @Test
    void noKlTermWithBetaZeroAndTheTrlClipRegionIsCounted() {
        try (NDManager manager = NDManager.newBaseManager()) {
            GrpoLoss grpo = new GrpoLoss(0, EPSILON, EPSILON_HIGH, manager);
            assertThat(grpo.usesReference()).isFalse();
            NDArray loss = grpo.perTokenLoss(
                    manager.create(LOGP[0]), manager.create(LOGP[0]), null, manager.create(ADVANTAGES[0]));
            float[][] perToken = reshape(loss.toFloatArray());
            assertThat((double) perToken[1][0]).as("ratio 1: -A").isCloseTo(0.5, within(1e-7));
            assertThat(grpo.clipped(1.5, 1)).isTrue();
            assertThat(grpo.clipped(1.5, -1))
                    .as("the clip does not bind above with A < 0")
                    .isFalse();
            assertThat(grpo.clipped(0.7, -1)).isTrue();
            assertThat(grpo.clipped(1.0, 1)).isFalse();
        }
        assertThatThrownBy(() -> {
                    try (NDManager manager = NDManager.newBaseManager()) {
                        new GrpoLoss(-0.1, EPSILON, EPSILON_HIGH, manager);
                    }
                })
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** TRL's per-token loss in doubles: -min(r A, clamp(r, 1 - eps, 1 + eps_high) A) + beta k3. */
    private static double tokenLoss(int b, int i, int t) {
        double r = Math.exp((double) LOGP[b][i][t] - OLD[b][i][t]);
        double clamped = Math.min(Math.max(r, 1 - EPSILON), 1 + EPSILON_HIGH);
        double a = ADVANTAGES[b][i];
        double d = (double) REF[b][i][t] - LOGP[b][i][t];
        return -Math.min(r * a, clamped * a) + BETA * (Math.exp(d) - d - 1);
    }

    /** Its derivative with respect to logp: -r A unless the clipped branch is the smaller one, + beta (1 - e^d). */
    private static double tokenGradient(int b, int i, int t) {
        double r = Math.exp((double) LOGP[b][i][t] - OLD[b][i][t]);
        double clamped = Math.min(Math.max(r, 1 - EPSILON), 1 + EPSILON_HIGH);
        double a = ADVANTAGES[b][i];
        boolean clippedBranchWins = clamped != r && clamped * a < r * a;
        double d = (double) REF[b][i][t] - LOGP[b][i][t];
        return (clippedBranchWins ? 0 : -r * a) + BETA * (1 - Math.exp(d));
    }

    /** d window loss / d l_it for row i of micro-batch b, from TRL's definitions of each loss_type. */
    private static double rowNormaliser(GrpoLossType type, int b, int i) {
        int batchTokens = LENGTHS[b][0] + LENGTHS[b][1] + LENGTHS[b][2];
        return switch (type) {
            case GRPO -> 1.0 / LENGTHS[b][i] / 6;
            case BNPO -> 1.0 / batchTokens / 2;
            case DR_GRPO -> 1.0 / (6 * MAX_COMPLETION_LENGTH);
            case DAPO -> 1.0 / 16;
        };
    }

    /** The window's loss as TRL defines each loss_type, over both micro-batches at once. */
    private static double windowLoss(GrpoLossType type) {
        double sum = 0;
        double sequenceMeans = 0;
        double batchMeans = 0;
        for (int b = 0; b < 2; b++) {
            double batchSum = 0;
            int batchTokens = 0;
            for (int i = 0; i < 3; i++) {
                double rowSum = 0;
                for (int t = 0; t < LENGTHS[b][i]; t++) {
                    rowSum += tokenLoss(b, i, t);
                }
                sum += rowSum;
                batchSum += rowSum;
                batchTokens += LENGTHS[b][i];
                sequenceMeans += rowSum / LENGTHS[b][i];
            }
            batchMeans += batchSum / batchTokens;
        }
        return switch (type) {
            case GRPO -> sequenceMeans / 6; // mean over completions of each completion's token mean
            case BNPO -> batchMeans / 2; // each micro-batch's token mean, then the mean (gradient accumulation)
            case DR_GRPO -> sum / (6 * MAX_COMPLETION_LENGTH);
            case DAPO -> sum / 16; // all of the window's tokens
        };
    }

    private static float[][] mask(int[] lengths) {
        float[][] mask = new float[lengths.length][4];
        for (int i = 0; i < lengths.length; i++) {
            java.util.Arrays.fill(mask[i], 0, lengths[i], 1f);
        }
        return mask;
    }

    private static float[][] reshape(float[] flat) {
        float[][] rows = new float[3][4];
        for (int i = 0; i < 3; i++) {
            System.arraycopy(flat, 4 * i, rows[i], 0, 4);
        }
        return rows;
    }
}
