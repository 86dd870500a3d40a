package dev.finetune.eval.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class NumericMetricsTest {
    @Test
    void lossPerplexityAndAccuracyFollowFromKnownLogProbs() {
        TokenMetrics m = new TokenMetrics();
        m.add(Math.log(0.5), true);
        m.add(Math.log(0.25), false);
        m.add(Math.log(0.125), true);
        m.add(Math.log(1.0), true);
        // loss = -(ln .5 + ln .25 + ln .125 + ln 1) / 4 = 6 ln 2 / 4 = 1.5 ln 2; perplexity = 2^1.5
        assertThat(m.evalLoss()).isCloseTo(1.5 * Math.log(2), within(1e-12));
        assertThat(m.perplexity()).isCloseTo(Math.pow(2, 1.5), within(1e-12));
        assertThat(m.meanTokenAccuracy()).isEqualTo(0.75);
        assertThat(m.tokens()).isEqualTo(4);
    }

    @Test
    void noScoredTokensIsAnErrorNotANaN() {
        assertThatThrownBy(() -> new TokenMetrics().evalLoss()).hasMessageContaining("no completion tokens");
        assertThatThrownBy(() -> new TokenMetrics().add(0.3, true)).hasMessageContaining("got 0.3");
    }

    @Test
    void preferenceAccuracyCountsStrictWinsAndMarginIsTheMeanLogProbDifference() {
        PreferenceMetrics m = PreferenceMetrics.of(new float[] {-1f, -5f, -2f, -3f}, new float[] {-2f, -4f, -2f, -7f});
        assertThat(m.accuracy()).isEqualTo(0.5); // pairs 0 and 3 win; a tie does not
        assertThat(m.margin()).isCloseTo((1 - 1 + 0 + 4) / 4.0, within(1e-9));
        assertThat(m.pairs()).isEqualTo(4);
    }

    @Test
    void bradleyTerryLossIsTheMeanNegativeLogSigmoidOfTheMarginsAndStaysFiniteForHugeOnes() {
        double[] chosen = {2.0, -1.0, 0.5, 800.0, -800.0};
        double[] rejected = {1.0, 1.0, 0.5, 0.0, 0.0};
        double expected = 0;
        for (double m : new double[] {1.0, -2.0, 0.0}) {
            expected += -Math.log(1 / (1 + Math.exp(-m)));
        }
        expected += 0.0 + 800.0; // -log sigmoid(800) underflows to 0; -log sigmoid(-800) = 800 to double precision

        assertThat(PreferenceMetrics.bradleyTerryLoss(chosen, rejected)).isCloseTo(expected / 5, within(1e-12));
        assertThat(PreferenceMetrics.of(chosen, rejected).accuracy()).isEqualTo(0.4);
    }

    @Test
    void labelledMarginIsTheDesirableMeanMinusTheUndesirableMean() {
        LabelledMetrics m = LabelledMetrics.of(
                new float[] {-1f, -5f, -2f, -3f, -7f}, new boolean[] {true, false, true, false, true});
        assertThat(m.margin()).isCloseTo(-10 / 3.0 - (-8 / 2.0), within(1e-6));
        assertThat(m.desirable()).isEqualTo(3);
        assertThat(m.undesirable()).isEqualTo(2);
        assertThatThrownBy(() -> LabelledMetrics.of(new float[] {-1f}, new boolean[] {true}))
                .hasMessageContaining("got 1 and 0");
    }
}
