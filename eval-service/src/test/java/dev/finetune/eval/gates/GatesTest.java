package dev.finetune.eval.gates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.events.EvaluationCompleted.GateOutcome;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatesTest {
    private static final Map<String, Double> BASE = Map.of("eval_loss", 2.0, "exact_match", 0.0);

    @Test
    void lossRatioAndMinimumsPassOrFailWithTheirNumbers() {
        Gates gates = new Gates(0.9, 0.1, 0.5, null, null, null, null);
        List<GateOutcome> outcomes = gates.evaluate(Map.of("eval_loss", 1.7, "exact_match", 0.25), BASE);

        assertThat(outcomes)
                .extracting(GateOutcome::gate)
                .containsExactly("eval_loss <= 0.9000 * base", "eval_loss <= base - 0.1000", "exact_match >= 0.5000");
        assertThat(outcomes).extracting(GateOutcome::passed).containsExactly(true, true, false);
        assertThat(outcomes.get(0).detail()).isEqualTo("eval_loss 1.7000 vs required <= 1.8000");
        assertThat(outcomes.get(2).detail()).isEqualTo("exact_match 0.2500 vs required >= 0.5000");
    }

    @Test
    void aLossJustAboveTheLimitFails() {
        assertThat(new Gates(0.9, null, null, null, null, null, null)
                        .evaluate(Map.of("eval_loss", 1.81), BASE)
                        .get(0)
                        .passed())
                .isFalse();
    }

    @Test
    void gatesOnMetricsTheDataDoesNotYieldAreNotApplied() {
        assertThat(new Gates(null, null, null, null, 0.6, null, null).evaluate(Map.of("eval_loss", 1.0), BASE))
                .isEmpty();
    }

    @Test
    void theBaselinesGateComparesWithTheBetterOfTheZeroShotAndThePromptedBase() {
        Gates gates = new Gates(null, null, null, null, null, 0.2, null); // on eval_loss by default
        Map<String, Double> prompted = Map.of("eval_loss", 1.5, "exact_match", 0.4);

        List<GateOutcome> beaten = gates.evaluate(Map.of("eval_loss", 1.2), BASE, prompted);
        assertThat(beaten).singleElement().satisfies(o -> {
            assertThat(o.gate()).isEqualTo("eval_loss beats the best baseline by >= 0.2000");
            assertThat(o.passed()).isTrue();
            assertThat(o.detail())
                    .isEqualTo("eval_loss 1.2000 vs prompted base 1.5000: improvement 0.3000 vs required >= 0.2000");
        });
        // Better than the zero-shot base by 0.6, but only 0.1 better than prompting.
        assertThat(gates.evaluate(Map.of("eval_loss", 1.4), BASE, prompted)
                        .get(0)
                        .passed())
                .isFalse();
        // Higher is better for exact match; with no prompt baseline the zero-shot base is the one to beat.
        Gates onExactMatch = new Gates(null, null, null, null, null, 0.1, "exact_match");
        assertThat(onExactMatch
                        .evaluate(Map.of("exact_match", 0.45), BASE, prompted)
                        .get(0)
                        .detail())
                .isEqualTo("exact_match 0.4500 vs prompted base 0.4000: improvement 0.0500 vs required >= 0.1000");
        assertThat(onExactMatch
                        .evaluate(Map.of("exact_match", 0.45), BASE)
                        .get(0)
                        .passed())
                .isTrue();
    }

    @Test
    void invalidThresholdsAreRefusedWithTheirValue() {
        assertThatThrownBy(() -> new Gates(null, null, 1.5, null, null, null, null))
                .hasMessage("gates.minExactMatch must be between 0 and 1, got 1.5");
        assertThatThrownBy(() -> new Gates(-1.0, null, null, null, null, null, null))
                .hasMessage("gates.maxEvalLossRatio must be >= 0, got -1.0");
        assertThatThrownBy(() -> new Gates(null, null, null, null, null, 0.1, "accuracy"))
                .hasMessageStartingWith("gates.baselineMetric must be one of ")
                .hasMessageEndingWith(", got 'accuracy'");
    }
}
