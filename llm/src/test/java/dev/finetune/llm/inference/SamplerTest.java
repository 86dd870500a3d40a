package dev.finetune.llm.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine-side sampling rule. Logits ln(1), ln(2), ln(3), ln(4) give probabilities 0.1, 0.2, 0.3,
 * 0.4 for tokens 0..3 (most probable first: 3, 2, 1, 0), so each case can be worked out by hand.
 */
class SamplerTest {
    private static final float[] LOGITS = {0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};
    private static final GenerationConfig SAMPLING = GenerationConfig.greedy(1).withSampling(1.0, 1.0, 0);

    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void withoutTopKOrTopPTheInverseCdfRunsInVocabularyOrder() {
        // cumulative 0.1, 0.3, 0.6, 1.0: the first above u
        assertThat(sample(SAMPLING, 0.05, 0.15, 0.5, 0.65, 0.99)).containsExactly(0, 1, 2, 3, 3);
    }

    @Test
    void topPKeepsTheMostProbableTokensUntilTheirMassReachesIt() {
        // sorted 0.4 (3), 0.3 (2), 0.2 (1), 0.1 (0); mass before each: 0, 0.4, 0.7, 0.9.
        // top_p 0.6 keeps 3 and 2 (mass 0.7): u * 0.7 against 0.4, 0.7
        GenerationConfig topP = SAMPLING.withSampling(1.0, 0.6, 0);
        assertThat(sample(topP, 0.0, 0.5, 0.58, 0.9, 0.999999)).containsExactly(3, 3, 2, 2, 2);
        // top_p 0.35 keeps token 3 alone (the mass before token 2 is 0.4)
        assertThat(sample(SAMPLING.withSampling(1.0, 0.35, 0), 0.1, 0.9)).containsExactly(3, 3);
    }

    @Test
    void topKKeepsTheKMostProbableAndRenormalises() {
        // top-2: 3 and 2 renormalised to 4/7 and 3/7
        GenerationConfig topK = SAMPLING.withTopK(2);
        assertThat(sample(topK, 0.0, 0.57, 0.58, 0.99)).containsExactly(3, 3, 2, 2);
        assertThat(sample(SAMPLING.withTopK(1), 0.0, 0.5, 0.99)).containsExactly(3, 3, 3);
    }

    @Test
    void topKThenTopPAsTransformersOrdersTheWarpers() {
        // top-3: 0.4, 0.3, 0.2 renormalised to 4/9, 3/9, 2/9; top_p 0.5: mass before 0, 4/9 (< 0.5), 7/9
        // keeps tokens 3 and 2 (mass 7/9): u * 7/9 against 4/9, 7/9
        GenerationConfig both = SAMPLING.withSampling(1.0, 0.5, 0).withTopK(3);
        assertThat(sample(both, 0.5, 0.6, 0.99)).containsExactly(3, 2, 2);
    }

    @Test
    void temperatureSharpensOrFlattensTheDistribution() {
        // T = 0.5 squares the probabilities: 1, 4, 9, 16 over 30; cumulative 1/30, 5/30, 14/30, 1
        GenerationConfig sharp = SAMPLING.withSampling(0.5, 1.0, 0);
        assertThat(sample(sharp, 0.03, 0.1, 0.4, 0.5)).containsExactly(0, 1, 2, 3);
    }

    @Test
    void drawnFrequenciesFollowTheTruncatedDistribution() {
        int draws = 40_000;
        SplittableRandom random = new SplittableRandom(11);
        double[] uniforms = new double[draws];
        for (int i = 0; i < draws; i++) {
            uniforms[i] = random.nextDouble();
        }
        long[] tokens = sample(SAMPLING.withSampling(1.0, 0.8, 0), uniforms); // keeps 3, 2, 1 (mass 0.9)
        int[] counts = new int[4];
        for (long token : tokens) {
            counts[(int) token]++;
        }
        assertThat(counts[0]).as("token 0 is outside the nucleus").isZero();
        double[] expected = {0, 0.2 / 0.9, 0.3 / 0.9, 0.4 / 0.9};
        for (int token = 1; token < 4; token++) {
            double sd = Math.sqrt(draws * expected[token] * (1 - expected[token]));
            assertThat((double) counts[token])
                    .as("token %d", token)
                    .isBetween(draws * expected[token] - 5 * sd, draws * expected[token] + 5 * sd);
        }
    }

    @Test
    void greedyIsTheFirstLargestLogitOfEachRow() {
        Sampler greedy = new Sampler(GenerationConfig.greedy(1), new long[] {0, 1});
        NDArray logits = manager.create(new float[] {1, 5, 5, 2, 9, 0, 0, 9}, new Shape(2, 4));
        assertThat(greedy.next(logits, new int[] {0, 1})).containsExactly(1, 0);
    }

    /** The tokens chosen from {@link #LOGITS} for each uniform, all rows in one call. */
    private static long[] sample(GenerationConfig config, double... uniforms) {
        float[] logits = new float[uniforms.length * LOGITS.length];
        float[] u = new float[uniforms.length];
        for (int b = 0; b < uniforms.length; b++) {
            System.arraycopy(LOGITS, 0, logits, b * LOGITS.length, LOGITS.length);
            u[b] = (float) uniforms[b];
        }
        NDArray chosen = Sampler.sample(
                manager.create(logits, new Shape(uniforms.length, LOGITS.length)),
                manager.create(u, new Shape(uniforms.length, 1)),
                config);
        return chosen.toLongArray();
    }
}
