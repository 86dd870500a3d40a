package dev.finetune.eval.api;

import dev.finetune.eval.gates.Gates;
import dev.finetune.events.FineTuneMethod;

/**
 * An evaluation requested over HTTP.
 *
 * @param baseModel the base model under models/base/
 * @param checkpointPrefix the key prefix of a PEFT adapter or full weights, e.g. a checkpoint or a
 *     registry version
 * @param method lora, qlora or full; omitted: detected from the files
 * @param dataset the prepared dataset version to evaluate on
 * @param gates gates to apply instead of the configured ones; omitted: the configured ones
 */
public record EvaluateRequest(
        String baseModel, String checkpointPrefix, FineTuneMethod method, DatasetRef dataset, GateValues gates) {

    /** A prepared dataset version. */
    public record DatasetRef(String name, String version) {}

    /** Gate thresholds as sent; validated by {@link Gates} when the request is accepted. */
    public record GateValues(
            Double maxEvalLossRatio,
            Double minEvalLossImprovement,
            Double minExactMatch,
            Double minRougeL,
            Double minPreferenceAccuracy,
            Double minImprovementOverBaselines,
            String baselineMetric) {
        Gates toGates() {
            return new Gates(
                    maxEvalLossRatio,
                    minEvalLossImprovement,
                    minExactMatch,
                    minRougeL,
                    minPreferenceAccuracy,
                    minImprovementOverBaselines,
                    baselineMetric);
        }
    }
}
