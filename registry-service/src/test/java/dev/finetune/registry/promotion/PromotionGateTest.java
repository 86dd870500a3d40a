package dev.finetune.registry.promotion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.events.EvaluationStatus;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.registry.catalog.VersionManifest;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PromotionGateTest {
    private static final PromotionPolicy LOSS_MUST_DROP =
            new PromotionPolicy("production", true, "eval_loss", null, 0.05, false);

    @Test
    void aVersionThatPassedAndBeatsProductionByEnoughIsAllowed() {
        GateDecision decision = PromotionGate.check(
                LOSS_MUST_DROP,
                "production",
                version(3, EvaluationStatus.PASSED, 1.80),
                version(2, EvaluationStatus.PASSED, 1.90));
        assertThat(decision.allowed()).isTrue();
        assertThat(decision.checks()).hasSize(2).allMatch(GateDecision.Check::passed);
    }

    @Test
    void aRefusalNamesEveryFailedRuleWithItsNumbers() {
        GateDecision decision = PromotionGate.check(
                LOSS_MUST_DROP,
                "production",
                version(3, EvaluationStatus.GATES_FAILED, 1.88),
                version(2, EvaluationStatus.PASSED, 1.90));
        assertThat(decision.allowed()).isFalse();
        assertThat(decision.summary())
                .contains("evaluation of version 3 is gates_failed (required: passed)")
                .contains("eval_loss 1.8800 vs 1.9000 of production version 2")
                .contains("improvement 0.0200")
                .contains(">= 0.0500");
    }

    @Test
    void higherIsBetterForMetricsThatAreNotLosses() {
        PromotionPolicy policy = new PromotionPolicy(null, false, "exact_match", null, null, false);
        assertThat(policy.isHigherBetter()).isTrue();
        assertThat(PromotionGate.check(
                                policy,
                                "production",
                                version(3, EvaluationStatus.PASSED, 0.5),
                                version(2, EvaluationStatus.PASSED, 0.6))
                        .allowed())
                .isFalse();
    }

    @Test
    void aMissingMetricFailsAndTheFirstPromotionHasNothingToBeat() {
        PromotionPolicy policy = new PromotionPolicy(null, false, "rouge_l", null, null, false);
        GateDecision missing =
                PromotionGate.check(policy, "production", version(1, EvaluationStatus.PASSED, 1.0), null);
        assertThat(missing.allowed()).isFalse();
        assertThat(missing.summary()).contains("version 1 has no metric rouge_l");
        GateDecision first =
                PromotionGate.check(LOSS_MUST_DROP, "production", version(1, EvaluationStatus.PASSED, 2.0), null);
        assertThat(first.allowed()).isTrue();
    }

    @Test
    void otherAliasesAreNotGuarded() {
        GateDecision decision = PromotionGate.check(
                LOSS_MUST_DROP,
                "staging",
                version(3, EvaluationStatus.GATES_FAILED, 9.0),
                version(2, EvaluationStatus.PASSED, 1.0));
        assertThat(decision.allowed()).isTrue();
        assertThat(decision.checks()).isEmpty();
    }

    @Test
    void invalidPoliciesAreRefusedNamingTheField() {
        assertThatThrownBy(() -> new PromotionPolicy(null, true, "eval_loss", null, -1.0, false))
                .hasMessageContaining("policy.minImprovement must be >= 0, got -1.0");
        assertThatThrownBy(() -> new PromotionPolicy("7", true, null, null, null, false))
                .hasMessageContaining("alias must not be a number");
    }

    private static VersionManifest version(long number, EvaluationStatus status, double metric) {
        return new VersionManifest(
                "m",
                number,
                VersionManifest.ADAPTER,
                "job-" + number,
                "base",
                "ds@1",
                FineTuneMethod.LORA,
                Objective.SFT,
                status,
                Map.of("eval_loss", metric, "exact_match", metric),
                null,
                null,
                Map.of(),
                Instant.EPOCH);
    }
}
