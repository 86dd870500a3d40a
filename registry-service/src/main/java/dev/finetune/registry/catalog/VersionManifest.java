package dev.finetune.registry.catalog;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.finetune.events.EvaluationStatus;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.events.RegisteredVersion;
import java.time.Instant;
import java.util.Map;

/**
 * A complete version: {@code registry/<model>/<version>/manifest.json}, written after every file
 * it names, so a version without it is incomplete and never listed as available. It also carries
 * the summary that listings and filters need, so a listing reads one object per version.
 *
 * @param model the registered model name
 * @param version the version number
 * @param kind {@value #ADAPTER} (PEFT LoRA adapter) or {@value #MODEL} (full HuggingFace model)
 * @param jobId the training job
 * @param baseModel the base model under {@code models/base/<name>/}
 * @param datasetId {@code <dataset>@<version>}
 * @param method what was trained
 * @param objective what was optimised
 * @param evaluationStatus passed or gates_failed
 * @param metrics the evaluation's metrics
 * @param parent the version this one continued training from, or null (see {@link Lineage#parent})
 * @param rewardModel the reward model version it was trained against, or null (see {@link Lineage#rewardModel})
 * @param files every stored file of the version by name (not this manifest nor registration.json)
 * @param registeredAt when the version number was claimed
 */
public record VersionManifest(
        String model,
        long version,
        String kind,
        String jobId,
        String baseModel,
        String datasetId,
        FineTuneMethod method,
        Objective objective,
        EvaluationStatus evaluationStatus,
        Map<String, Double> metrics,
        RegisteredVersion parent,
        RegisteredVersion rewardModel,
        Map<String, FileDigest> files,
        Instant registeredAt) {
    public static final String ADAPTER = "adapter";
    public static final String MODEL = "model";

    @JsonIgnore
    public boolean isAdapter() {
        return ADAPTER.equals(kind);
    }
}
