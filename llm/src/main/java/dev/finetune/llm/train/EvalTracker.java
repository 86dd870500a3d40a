package dev.finetune.llm.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the evaluations of a run have found so far, kept in every checkpoint's manifest so a resumed
 * run continues it: the log of evaluations, the best value of metric_for_best_model and its step
 * (transformers' {@code _determine_best_metric}: any strict improvement), and the early-stopping
 * patience counter (its {@code EarlyStoppingCallback}: reset by an improvement larger than the
 * threshold, else counted up; both compare with the best before this evaluation).
 */
final class EvalTracker {
    private final EvalArguments arguments;
    private final List<Map<String, Object>> logHistory = new ArrayList<>();
    private Double bestMetric;
    private Integer bestStep;
    private String bestCheckpoint;
    private int patienceCounter;

    EvalTracker(EvalArguments arguments) {
        this.arguments = arguments;
    }

    /** Continues from a checkpoint's manifest. */
    void restore(TrainerState state) {
        logHistory.clear();
        if (state.logHistory() != null) {
            logHistory.addAll(state.logHistory());
        }
        bestMetric = state.bestMetric();
        bestStep = state.bestGlobalStep();
        bestCheckpoint = state.bestModelCheckpoint();
        patienceCounter = state.earlyStoppingPatienceCounter();
    }

    /**
     * Records the evaluation after {@code step}; true if it is a new best.
     *
     * @throws IllegalStateException if the metrics lack metric_for_best_model
     */
    boolean record(int step, double epoch, Map<String, Double> metrics) {
        Double value = metrics.get(arguments.metricForBestModel());
        if (value == null) {
            throw new IllegalStateException("metric_for_best_model " + arguments.metricForBestModel()
                    + " is not among the evaluation's metrics " + metrics.keySet());
        }
        Map<String, Object> entry = new LinkedHashMap<>(metrics);
        entry.put("epoch", epoch);
        entry.put("step", step);
        logHistory.add(entry);
        boolean first = bestMetric == null;
        if (first || arguments.improves(value, bestMetric, arguments.earlyStoppingThreshold())) {
            patienceCounter = 0;
        } else {
            patienceCounter++;
        }
        if (first || arguments.improves(value, bestMetric, 0)) {
            bestMetric = value;
            bestStep = step;
            bestCheckpoint = null; // until the checkpoint of that step is written
            return true;
        }
        return false;
    }

    /** Whether early stopping's patience has run out. */
    boolean shouldStop() {
        return arguments.earlyStoppingPatience() > 0 && patienceCounter >= arguments.earlyStoppingPatience();
    }

    /** Notes that the checkpoint of {@code step} is being written to {@code directory}. */
    void saving(int step, String directory) {
        if (bestStep != null && bestStep == step) {
            bestCheckpoint = directory;
        }
    }

    List<Map<String, Object>> logHistory() {
        return List.copyOf(logHistory);
    }

    Double bestMetric() {
        return bestMetric;
    }

    Integer bestStep() {
        return bestStep;
    }

    String bestCheckpoint() {
        return bestCheckpoint;
    }

    int patienceCounter() {
        return patienceCounter;
    }
}
