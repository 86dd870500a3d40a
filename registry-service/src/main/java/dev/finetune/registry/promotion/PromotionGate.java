package dev.finetune.registry.promotion;

import dev.finetune.events.EvaluationStatus;
import dev.finetune.registry.catalog.VersionManifest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Applies a {@link PromotionPolicy} to a candidate version and the alias's current version. Pure. */
public final class PromotionGate {
    private PromotionGate() {}

    /**
     * @param policy the model's rule, or null if it has none
     * @param current the manifest of the version the alias points at now, or null if it points nowhere
     */
    public static GateDecision check(
            PromotionPolicy policy, String alias, VersionManifest candidate, VersionManifest current) {
        Long currentVersion = current == null ? null : current.version();
        List<GateDecision.Check> checks = new ArrayList<>();
        if (policy != null && policy.alias().equals(alias)) {
            if (policy.requirePassed()) {
                checks.add(evaluationPassed(candidate));
            }
            if (policy.metric() != null) {
                checks.add(beatsCurrent(policy, alias, candidate, current));
            }
        }
        boolean allowed = checks.stream().allMatch(GateDecision.Check::passed);
        return new GateDecision(candidate.model(), candidate.version(), alias, currentVersion, allowed, checks);
    }

    private static GateDecision.Check evaluationPassed(VersionManifest candidate) {
        EvaluationStatus status = candidate.evaluationStatus();
        return new GateDecision.Check(
                "evaluation passed",
                status == EvaluationStatus.PASSED,
                "the evaluation of version " + candidate.version() + " is "
                        + (status == null ? "unknown" : status.code()) + " (required: passed)");
    }

    private static GateDecision.Check beatsCurrent(
            PromotionPolicy policy, String alias, VersionManifest candidate, VersionManifest current) {
        String metric = policy.metric();
        boolean higher = policy.isHigherBetter();
        String rule = "beats " + alias + " on " + metric + " (" + (higher ? "higher" : "lower") + " is better"
                + (policy.minImprovement() > 0 ? ", by at least " + format(policy.minImprovement()) : "") + ")";
        Double value = candidate.metrics() == null ? null : candidate.metrics().get(metric);
        if (value == null) {
            return new GateDecision.Check(rule, false, "version " + candidate.version() + " has no metric " + metric);
        }
        if (current == null) {
            return new GateDecision.Check(
                    rule, true, metric + " " + format(value) + "; " + alias + " points at no version yet");
        }
        Double reference = current.metrics() == null ? null : current.metrics().get(metric);
        if (reference == null) {
            return new GateDecision.Check(
                    rule,
                    true,
                    metric + " " + format(value) + "; " + alias + " version " + current.version() + " has no " + metric
                            + " to beat");
        }
        double improvement = higher ? value - reference : reference - value;
        boolean passed = improvement > 0 && improvement >= policy.minImprovement();
        return new GateDecision.Check(
                rule,
                passed,
                metric + " " + format(value) + " vs " + format(reference) + " of " + alias + " version "
                        + current.version() + ": improvement " + format(improvement) + ", required > 0"
                        + (policy.minImprovement() > 0 ? " and >= " + format(policy.minImprovement()) : ""));
    }

    private static String format(double value) {
        return String.format(Locale.ROOT, "%.4f", value);
    }
}
