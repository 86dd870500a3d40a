package dev.finetune.eval.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Evaluation reports in the object store: next to the checkpoint, or under evaluations/adhoc/. */
@ApplicationScoped
public class ReportStore {
    private final ObjectStore store;
    private final ObjectMapper json;

    ReportStore(ObjectStore store, ObjectMapper json) {
        this.store = store;
        this.json = json;
    }

    public Optional<EvaluationReport> get(String key) {
        if (!store.exists(key)) {
            return Optional.empty();
        }
        try {
            return Optional.of(json.readValue(store.getBytes(key), EvaluationReport.class));
        } catch (IOException e) {
            throw new UncheckedIOException("reading report " + key, e);
        }
    }

    public void put(EvaluationReport report) {
        try {
            store.putBytes(report.reportKey(), json.writeValueAsBytes(report), "application/json");
        } catch (IOException e) {
            throw new UncheckedIOException("writing report " + report.reportKey(), e);
        }
    }

    /** Every stored report of a job's checkpoints, by step. */
    public List<EvaluationReport> ofJob(String jobId) {
        List<EvaluationReport> reports = new ArrayList<>();
        store.listChildren(ObjectKeys.checkpointsPrefix(jobId)).stream()
                .filter(name -> name.matches("step-\\d+"))
                .mapToLong(name -> Long.parseLong(name.substring("step-".length())))
                .sorted()
                .forEach(step ->
                        get(EvaluationRequest.checkpointReportKey(jobId, step)).ifPresent(reports::add));
        return reports;
    }
}
