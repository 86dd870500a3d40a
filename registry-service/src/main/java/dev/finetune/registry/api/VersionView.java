package dev.finetune.registry.api;

import dev.finetune.events.EvaluationStatus;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.events.RegisteredVersion;
import dev.finetune.registry.catalog.ArchiveMarker;
import dev.finetune.registry.catalog.FileDigest;
import dev.finetune.registry.catalog.VersionManifest;
import dev.finetune.registry.catalog.VersionState;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A version as the API lists it.
 *
 * @param status available, archived or incomplete
 * @param kind adapter (PEFT LoRA) or model (full weights); null while incomplete
 * @param parent the version it continued training from, or null
 * @param rewardModel the reward model version it was trained against, or null
 * @param aliases the aliases that point at it
 * @param problems why it is incomplete
 * @param files its files with size and SHA-256
 */
public record VersionView(
        String model,
        long version,
        String status,
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
        List<String> aliases,
        Instant registeredAt,
        ArchiveMarker archived,
        List<String> problems,
        Map<String, FileDigest> files) {

    static VersionView of(VersionState state, List<String> aliases) {
        VersionManifest m = state.manifest();
        if (m == null) {
            return new VersionView(
                    state.model(),
                    state.version(),
                    state.status(),
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    Map.of(),
                    null,
                    null,
                    aliases,
                    null,
                    state.archived(),
                    state.problems(),
                    Map.of());
        }
        return new VersionView(
                state.model(),
                state.version(),
                state.status(),
                m.kind(),
                m.jobId(),
                m.baseModel(),
                m.datasetId(),
                m.method(),
                m.objective(),
                m.evaluationStatus(),
                m.metrics(),
                m.parent(),
                m.rewardModel(),
                aliases,
                m.registeredAt(),
                state.archived(),
                state.problems(),
                m.files());
    }
}
