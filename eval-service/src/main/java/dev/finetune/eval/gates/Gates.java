package dev.finetune.eval.gates;

import static dev.finetune.eval.metrics.MetricNames.EVAL_LOSS;
import static dev.finetune.eval.metrics.MetricNames.EXACT_MATCH;
import static dev.finetune.eval.metrics.MetricNames.PREFERENCE_ACCURACY;
import static dev.finetune.eval.metrics.MetricNames.ROUGE_L;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.eval.EvalSettings;
import dev.finetune.eval.metrics.MetricNames;
import dev.finetune.events.EvaluationCompleted.GateOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Pass/fail rules on a checkpoint's metrics and its base model's. A null field is a gate not
 * applied; a gate on a metric the data does not yield (preference accuracy on chat data, say) is
 * not applied either, so one configuration serves every dataset. Each applied gate is reported
 * with the numbers it was decided on.
 *
 * @param maxEvalLossRatio eval_loss &lt;= ratio * base eval_loss
 * @param minEvalLossImprovement eval_loss &lt;= base eval_loss - improvement
 * @param minExactMatch exact_match &gt;= value
 * @param minRougeL rouge_l &gt;= value
 * @param minPreferenceAccuracy preference_accuracy &gt;= value
 * @param minImprovementOverBaselines on {@code baselineMetric}, the checkpoint beats the better of
 *     the zero-shot and the prompted base model by at least this much (fine-tuning was worth more
 *     than prompting)
 * @param baselineMetric the metric of {@code minImprovementOverBaselines}; null: eval_loss
 */
public record Gates(
        Double maxEvalLossRatio,
        Double minEvalLossImprovement,
        Double minExactMatch,
        Double minRougeL,
        Double minPreferenceAccuracy,
        Double minImprovementOverBaselines,
        String baselineMetric) {

    public static final Gates NONE = new Gates(null, null, null, null, null, null, null);

    public Gates {
        if (maxEvalLossRatio != null && !(maxEvalLossRatio >= 0)) {
            throw new InvalidInputException(
                    "gates.maxEvalLossRatio", "gates.maxEvalLossRatio must be >= 0, got " + maxEvalLossRatio);
        }
        if (minEvalLossImprovement != null && !Double.isFinite(minEvalLossImprovement)) {
            throw new InvalidInputException(
                    "gates.minEvalLossImprovement",
                    "gates.minEvalLossImprovement must be a finite number, got " + minEvalLossImprovement);
        }
        requireFraction("gates.minExactMatch", minExactMatch);
        requireFraction("gates.minRougeL", minRougeL);
        requireFraction("gates.minPreferenceAccuracy", minPreferenceAccuracy);
        if (minImprovementOverBaselines != null && !Double.isFinite(minImprovementOverBaselines)) {
            throw new InvalidInputException(
                    "gates.minImprovementOverBaselines",
                    "gates.minImprovementOverBaselines must be a finite number, got " + minImprovementOverBaselines);
        }
        baselineMetric = baselineMetric == null || baselineMetric.isBlank() ? EVAL_LOSS : baselineMetric.strip();
        if (!MetricNames.ALL.contains(baselineMetric)) {
            throw new InvalidInputException(
                    "gates.baselineMetric",
                    "gates.baselineMetric must be one of " + MetricNames.ALL + ", got '" + baselineMetric + "'");
        }
    }

    public static Gates of(EvalSettings.Gates settings) {
        return new Gates(
                settings.maxEvalLossRatio().orElse(null),
                settings.minEvalLossImprovement().orElse(null),
                settings.minExactMatch().orElse(null),
                settings.minRougeL().orElse(null),
                settings.minPreferenceAccuracy().orElse(null),
                settings.minImprovementOverBaselines().orElse(null),
                settings.baselineMetric());
    }

    /** Every applicable gate's outcome, with no prompt baseline. */
    public List<GateOutcome> evaluate(Map<String, Double> metrics, Map<String, Double> base) {
        return evaluate(metrics, base, Map.of());
    }

    /**
     * Every applicable gate's outcome, in the order of this record's fields.
     *
     * @param promptBaseline the prompted base model's metrics; empty if it was not scored
     */
    public List<GateOutcome> evaluate(
            Map<String, Double> metrics, Map<String, Double> base, Map<String, Double> promptBaseline) {
        List<GateOutcome> outcomes = new ArrayList<>();
        Double loss = metrics.get(EVAL_LOSS);
        Double baseLoss = base.get(EVAL_LOSS);
        if (maxEvalLossRatio != null && loss != null && baseLoss != null) {
            outcomes.add(atMost(
                    "eval_loss <= " + format(maxEvalLossRatio) + " * base",
                    EVAL_LOSS,
                    loss,
                    maxEvalLossRatio * baseLoss));
        }
        if (minEvalLossImprovement != null && loss != null && baseLoss != null) {
            outcomes.add(atMost(
                    "eval_loss <= base - " + format(minEvalLossImprovement),
                    EVAL_LOSS,
                    loss,
                    baseLoss - minEvalLossImprovement));
        }
        atLeast(outcomes, EXACT_MATCH, minExactMatch, metrics);
        atLeast(outcomes, ROUGE_L, minRougeL, metrics);
        atLeast(outcomes, PREFERENCE_ACCURACY, minPreferenceAccuracy, metrics);
        beatsBaselines(metrics, base, promptBaseline).ifPresent(outcomes::add);
        return outcomes;
    }

    /** The baselines gate, if it is set and the checkpoint and a baseline have the metric. */
    private Optional<GateOutcome> beatsBaselines(
            Map<String, Double> metrics, Map<String, Double> base, Map<String, Double> promptBaseline) {
        Double value = metrics.get(baselineMetric);
        if (minImprovementOverBaselines == null || value == null) {
            return Optional.empty();
        }
        boolean lower = MetricNames.LOWER_IS_BETTER.contains(baselineMetric);
        String best = null;
        double bestValue = Double.NaN;
        for (Map.Entry<String, Map<String, Double>> baseline :
                List.of(Map.entry("zero-shot base", base), Map.entry("prompted base", promptBaseline))) {
            Double v = baseline.getValue().get(baselineMetric);
            if (v != null && (best == null || (lower ? v < bestValue : v > bestValue))) {
                best = baseline.getKey();
                bestValue = v;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        double improvement = lower ? bestValue - value : value - bestValue;
        return Optional.of(new GateOutcome(
                baselineMetric + " beats the best baseline by >= " + format(minImprovementOverBaselines),
                improvement >= minImprovementOverBaselines,
                baselineMetric + " " + format(value) + " vs " + best + " " + format(bestValue) + ": improvement "
                        + format(improvement) + " vs required >= " + format(minImprovementOverBaselines)));
    }

    private static GateOutcome atMost(String gate, String metric, double value, double limit) {
        return new GateOutcome(gate, value <= limit, metric + " " + format(value) + " vs required <= " + format(limit));
    }

    private static void atLeast(List<GateOutcome> outcomes, String metric, Double minimum, Map<String, Double> m) {
        Double value = m.get(metric);
        if (minimum != null && value != null) {
            outcomes.add(new GateOutcome(
                    metric + " >= " + format(minimum),
                    value >= minimum,
                    metric + " " + format(value) + " vs required >= " + format(minimum)));
        }
    }

    private static void requireFraction(String field, Double value) {
        if (value != null && !(value >= 0 && value <= 1)) {
            throw new InvalidInputException(field, field + " must be between 0 and 1, got " + value);
        }
    }

    static String format(double value) {
        return String.format(Locale.ROOT, "%.4f", value);
    }
}
