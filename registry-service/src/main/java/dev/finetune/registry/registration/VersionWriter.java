package dev.finetune.registry.registration;

import dev.finetune.contracts.PreparedManifest;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EvaluationCompleted;
import dev.finetune.registry.catalog.FileDigest;
import dev.finetune.registry.catalog.Lineage;
import dev.finetune.registry.catalog.Registration;
import dev.finetune.registry.catalog.VersionManifest;
import dev.finetune.registry.catalog.VersionMetrics;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.LocalFiles;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.PreparedManifests;
import dev.finetune.storage.StoredObject;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes the files of a claimed version: the checkpoint's artifacts, {@code metrics.json}, {@code
 * lineage.json} and the model card, then the manifest with every file's size and SHA-256, last. All
 * content derives from the {@link Registration}, so a write interrupted half-way and done again
 * stores the same bytes.
 */
@ApplicationScoped
public class VersionWriter {
    static final String METRICS = "metrics.json";
    static final String LINEAGE = "lineage.json";
    static final String CARD = "README.md";

    private final ObjectStore store;
    private final JsonObjects json;

    VersionWriter(ObjectStore store, JsonObjects json) {
        this.store = store;
        this.json = json;
    }

    /**
     * Completes the version from the checkpoint's staged files and its base model's fingerprint (or
     * returns its manifest if it is complete already).
     */
    public VersionManifest write(
            Registration registration, CheckpointArtifacts.Artifacts staged, Lineage.BaseModel baseModel)
            throws IOException {
        String model = registration.model();
        long version = registration.version();
        String manifestKey = RegistryKeys.manifest(model, version);
        var existing = json.read(manifestKey, VersionManifest.class);
        if (existing.isPresent()) {
            return existing.get();
        }
        CheckpointCreated checkpoint = registration.checkpoint();
        EvaluationCompleted evaluation = registration.evaluation();
        Lineage lineage = new Lineage(
                dataset(checkpoint),
                registration.jobId(),
                new Lineage.Checkpoint(
                        checkpoint.prefix(), checkpoint.step(), checkpoint.totalSteps(), checkpoint.createdAt()),
                baseModel,
                new Lineage.Evaluation(
                        evaluation.evaluationId(),
                        evaluation.status().code(),
                        evaluation.reportKey(),
                        evaluation.completedAt()),
                registration.traceId(),
                registration.evaluationTraceId(),
                checkpoint.method(),
                checkpoint.objective(),
                staged.hyperparameters(),
                checkpoint.parent(),
                checkpoint.rewardModel(),
                registration.registeredAt());
        VersionMetrics metrics = VersionMetrics.of(evaluation);

        Map<String, FileDigest> files = new TreeMap<>();
        for (Map.Entry<String, Path> file : staged.files().entrySet()) {
            files.put(file.getKey(), upload(RegistryKeys.file(model, version, file.getKey()), file.getValue()));
        }
        String card = ModelCard.render(model, version, staged.kind(), lineage, metrics, new TreeMap<>(files));
        files.put(METRICS, upload(model, version, METRICS, json.bytes(metrics)));
        files.put(LINEAGE, upload(model, version, LINEAGE, json.bytes(lineage)));
        files.put(CARD, upload(model, version, CARD, card.getBytes(StandardCharsets.UTF_8)));

        VersionManifest manifest = new VersionManifest(
                model,
                version,
                staged.kind(),
                registration.jobId(),
                checkpoint.baseModel(),
                lineage.dataset().id(),
                checkpoint.method(),
                checkpoint.objective(),
                evaluation.status(),
                metrics.metrics(),
                checkpoint.parent(),
                checkpoint.rewardModel(),
                files,
                registration.registeredAt());
        if (!json.create(manifestKey, manifest)) {
            return json.read(manifestKey, VersionManifest.class).orElse(manifest); // completed by a redelivery
        }
        return manifest;
    }

    /** Uploads a staged file; the hash computed while sending must be the hash of the local file. */
    private FileDigest upload(String key, Path file) throws IOException {
        String local = Digests.of(file);
        StoredObject stored = store.putFile(key, file, LocalFiles.contentType(key));
        if (!stored.sha256().equals(local)) {
            throw new IOException(
                    "upload of " + key + " sent SHA-256 " + stored.sha256() + " but the staged file has " + local);
        }
        return new FileDigest(stored.size(), stored.sha256());
    }

    private FileDigest upload(String model, long version, String name, byte[] data) {
        StoredObject stored =
                store.putBytes(RegistryKeys.file(model, version, name), data, LocalFiles.contentType(name));
        return new FileDigest(stored.size(), stored.sha256());
    }

    /** The dataset version and its SHA-256 from the prepared manifest; what is missing is said, not guessed. */
    private Lineage.Dataset dataset(CheckpointCreated checkpoint) {
        String name = checkpoint.datasetName();
        String version = checkpoint.datasetVersion();
        String key = PreparedManifests.key(name, version);
        String id = name + "@" + version;
        try {
            String sha = PreparedManifests.read(store, name, version)
                    .map(PreparedManifest::sha256)
                    .orElse(null);
            if (sha == null) {
                return new Lineage.Dataset(name, version, id, null, key, "no prepared manifest at " + key);
            }
            if (!sha.matches("[0-9a-f]{64}")) {
                return new Lineage.Dataset(name, version, id, null, key, "the prepared manifest has no valid sha256");
            }
            return new Lineage.Dataset(name, version, id, sha, key, null);
        } catch (IOException e) {
            return new Lineage.Dataset(
                    name, version, id, null, key, "the prepared manifest cannot be read: " + e.getMessage());
        }
    }
}
