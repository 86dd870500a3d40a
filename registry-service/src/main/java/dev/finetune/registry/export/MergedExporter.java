package dev.finetune.registry.export;

import dev.finetune.events.RegistryAction;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.peft.StreamedMerge;
import dev.finetune.registry.RegistryConflictException;
import dev.finetune.registry.RegistryEvents;
import dev.finetune.registry.RegistryNotFoundException;
import dev.finetune.registry.RegistrySettings;
import dev.finetune.registry.catalog.FileDigest;
import dev.finetune.registry.catalog.Lineage;
import dev.finetune.registry.catalog.MergedManifest;
import dev.finetune.registry.catalog.RegistryCatalog;
import dev.finetune.registry.catalog.VersionManifest;
import dev.finetune.registry.catalog.VersionState;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.LocalFiles;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.registry.store.VerifiedDownloads;
import dev.finetune.storage.LocalDirectories;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.StoredObject;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Exports a version's adapter merged into its base model as a plain HuggingFace checkpoint under
 * {@code registry/<model>/<version>/merged/} ({@code W' = W + B A * scaling}, tokenizer files copied
 * from the base): what serving stacks without adapter support load. Every input is verified on
 * download, the base model against the hashes recorded in the version's lineage, so an export is
 * the merge of exactly the registered adapter and the base it was trained on.
 *
 * <p>The merge streams tensor by tensor from the base checkpoint on disk ({@link StreamedMerge}):
 * memory stays at about one tensor whatever the model's size, the result keeps the base's dtype (a
 * bf16 base gives a bf16 export, rounded to nearest even) and is sharded at {@code
 * pipeline.registry.merged-shard-bytes} with {@code model.safetensors.index.json}. A merge that gives
 * NaN or infinite weights is refused (409, naming the tensor), as PEFT's {@code safe_merge} does.
 * Nothing is uploaded before the merge is complete, and the export's manifest is written after its
 * files: an interrupted or failed export leaves no merged version (stray files of one are replaced
 * by the next export and never listed).
 */
@ApplicationScoped
public class MergedExporter {
    private static final Logger LOG = Logger.getLogger(MergedExporter.class);

    private final ObjectStore store;
    private final JsonObjects json;
    private final RegistryCatalog catalog;
    private final VerifiedDownloads downloads;
    private final RegistryEvents events;
    private final RegistrySettings settings;

    MergedExporter(
            ObjectStore store,
            JsonObjects json,
            RegistryCatalog catalog,
            VerifiedDownloads downloads,
            RegistryEvents events,
            RegistrySettings settings) {
        this.store = store;
        this.json = json;
        this.catalog = catalog;
        this.downloads = downloads;
        this.events = events;
        this.settings = settings;
    }

    /**
     * An export and whether this call made it.
     *
     * @param created false if it existed already
     */
    public record Export(MergedManifest manifest, boolean created) {}

    /** The version's merged export, made now if it does not exist yet. */
    public Export export(String model, long version, String actor) throws IOException {
        VersionState state = catalog.version(model, version)
                .orElseThrow(() -> new RegistryNotFoundException("model '" + model + "' has no version " + version));
        if (!state.isComplete()) {
            throw new RegistryConflictException("version " + version + " of '" + model + "' is incomplete ("
                    + String.join("; ", state.problems()) + "): it cannot be exported");
        }
        VersionManifest manifest = state.manifest();
        if (!manifest.isAdapter()) {
            throw new RegistryConflictException("version " + version + " of '" + model
                    + "' is a full model already (method " + manifest.method().code() + "): download its files");
        }
        synchronized (this) { // one merge at a time per instance: each needs the base and the result on disk
            var existing = catalog.merged(model, version);
            if (existing.isPresent()) {
                return new Export(existing.get(), false);
            }
            MergedManifest merged = merge(manifest, actor);
            if (!json.create(RegistryKeys.merged(model, version, RegistryKeys.MANIFEST), merged)) {
                return new Export(catalog.merged(model, version).orElse(merged), false); // another instance won
            }
            events.publish(
                    model, version, RegistryAction.MERGED_MODEL_EXPORTED, null, null, actor, manifest.jobId(), null);
            return new Export(merged, true);
        }
    }

    private MergedManifest merge(VersionManifest manifest, String actor) throws IOException {
        String model = manifest.model();
        long version = manifest.version();
        Lineage lineage = json.read(RegistryKeys.file(model, version, "lineage.json"), Lineage.class)
                .orElseThrow(() -> new RegistryConflictException(
                        "version " + version + " of '" + model + "' has no lineage.json"));
        Files.createDirectories(settings.workDir());
        Path work = Files.createTempDirectory(settings.workDir(), "merge-" + model + "-" + version + "-");
        try {
            Path base = downloadBase(lineage.baseModel(), work.resolve("base"));
            Path adapter = work.resolve("adapter");
            for (String name : List.of("adapter_config.json", PeftAdapter.WEIGHTS_FILE)) {
                downloads.toFile(
                        RegistryKeys.file(model, version, name),
                        manifest.files().get(name),
                        adapter.resolve(name));
            }
            Path out = work.resolve("merged");
            long started = System.nanoTime();
            try {
                StreamedMerge.write(base, adapter, out, settings.mergedShardBytes());
            } catch (CheckpointException e) {
                throw new RegistryConflictException("version " + version + " of '" + model + "' cannot be merged into "
                        + lineage.baseModel().name() + ": "
                        + String.valueOf(e.getMessage()).replace(work + "/", ""));
            }
            Map<String, FileDigest> files = new TreeMap<>();
            try (Stream<Path> list = Files.list(out)) {
                for (Path file : list.sorted().toList()) {
                    String name = file.getFileName().toString();
                    StoredObject stored = store.putFile(
                            RegistryKeys.merged(model, version, name), file, LocalFiles.contentType(name));
                    files.put(name, new FileDigest(stored.size(), stored.sha256()));
                }
            }
            LOG.infof(
                    "merged %s version %d into %s in %d ms: %d files",
                    model,
                    version,
                    lineage.baseModel().name(),
                    (System.nanoTime() - started) / 1_000_000,
                    files.size());
            return new MergedManifest(
                    model,
                    version,
                    lineage.baseModel().name(),
                    lineage.baseModel().sha256(),
                    files,
                    actor,
                    Instant.now());
        } finally {
            LocalDirectories.deleteRecursively(work);
        }
    }

    /** The base model's files as they were at registration (each checked against the lineage's SHA-256). */
    private Path downloadBase(Lineage.BaseModel base, Path directory) throws IOException {
        for (Map.Entry<String, String> file : base.files().entrySet()) {
            String key = base.prefix() + file.getKey();
            long size = store.stat(key)
                    .orElseThrow(() -> new RegistryConflictException("base model file " + key
                            + " recorded in the lineage is gone: the version cannot be merged"))
                    .size();
            downloads.toFile(key, new FileDigest(size, file.getValue()), directory.resolve(file.getKey()));
        }
        return directory;
    }
}
