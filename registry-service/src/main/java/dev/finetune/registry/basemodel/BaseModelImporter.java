package dev.finetune.registry.basemodel;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.naming.Names;
import dev.finetune.registry.RegistryConflictException;
import dev.finetune.registry.RegistrySettings;
import dev.finetune.registry.catalog.FileDigest;
import dev.finetune.registry.registration.BaseModelFingerprints;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.LocalFiles;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.storage.AllowedSources;
import dev.finetune.storage.Digests;
import dev.finetune.storage.LocalDirectories;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.S3Location;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Imports a base model: its files are staged on local disk, verified ({@link BaseModelVerifier}),
 * hashed, and stored under {@code models/base/<name>/}. The protocol, step by step:
 *
 * <ol>
 *   <li>Verify and hash every file; one SHA-256 over all of them identifies the content.
 *   <li>If the name is already a base model (its config.json exists), answer by content: the same
 *       hash is "already imported" (nothing is written), another is a conflict (409). A seeded base
 *       model is compared by its fingerprint, so importing the same files over it changes nothing.
 *   <li>Claim the name for this content ({@code registry/_base-models/_imports/<name>.json}, created
 *       only if absent). A claim for the same content is taken over (a retry after a crash, or a
 *       concurrent import of the same bytes, writes the same files); one for other content is a
 *       conflict unless it is older than {@link #CLAIM_EXPIRY} and no config.json was written (an
 *       interrupted import), which is replaced by compare-and-set.
 *   <li>Write every file but config.json, then config.json: the name becomes a base model (to jobs
 *       and listings) only once all its files are there.
 *   <li>Write {@code model.json}, the manifest, last, only if absent (a concurrent import of the same
 *       content may have written it first); then record the hashes for lineage fingerprints.
 * </ol>
 */
@ApplicationScoped
public class BaseModelImporter {
    /** An import of a multi-GB model takes minutes; a claim this old with no config.json was abandoned. */
    static final Duration CLAIM_EXPIRY = Duration.ofHours(24);

    static final AllowedSources.Purpose SOURCES =
            new AllowedSources.Purpose("pipeline.registry.base-models.allowed-sources", "source", "base models");

    /** A source prefix with more objects than this is not a model directory. */
    static final int MAX_FILES = 1000;

    /** Which content an import of the name is writing, since when, for whom. */
    record ImportClaim(String sha256, Instant startedAt, String importedBy) {}

    /**
     * The answer to an import.
     *
     * @param alreadyImported true if these files were already the base model (nothing was written)
     */
    public record Outcome(BaseModelManifest model, boolean alreadyImported) {}

    private final ObjectStore store;
    private final JsonObjects json;
    private final BaseModels models;
    private final BaseModelFingerprints fingerprints;
    private final RegistrySettings settings;
    private final AllowedSources sources;

    BaseModelImporter(
            ObjectStore store,
            JsonObjects json,
            BaseModels models,
            BaseModelFingerprints fingerprints,
            RegistrySettings settings) {
        this.store = store;
        this.json = json;
        this.models = models;
        this.fingerprints = fingerprints;
        this.settings = settings;
        this.sources = new AllowedSources(
                store.bucket(), settings.baseModels().allowedSources().orElse(List.of()), SOURCES);
    }

    /** Imports uploaded files (file name to where the upload was saved); the saved files are moved. */
    public Outcome importUploads(String name, Map<String, Path> uploads, String actor) throws IOException {
        Names.requireName("name", name);
        if (uploads.isEmpty()) {
            throw new InvalidInputException("files", "no files: upload the model directory's files as 'file' parts");
        }
        Path work = workDirectory(name);
        try {
            for (Map.Entry<String, Path> upload : uploads.entrySet()) {
                Files.move(
                        upload.getValue(),
                        work.resolve(fileName(upload.getKey(), upload.getKey())),
                        StandardCopyOption.REPLACE_EXISTING);
            }
            return importDirectory(name, work, "upload", actor);
        } finally {
            LocalDirectories.deleteRecursively(work);
        }
    }

    /**
     * Imports the objects directly under an {@code s3://bucket/prefix/} of the object store, which must
     * be an allowed source: the registry's credentials may reach buckets its callers should not read
     * through it, and its own bucket holds other models and checkpoints.
     */
    public Outcome importFrom(String name, S3Location source, String actor) throws IOException {
        Names.requireName("name", name);
        sources.check(source);
        String prefix = source.key().endsWith("/") ? source.key() : source.key() + "/";
        S3Location directory = new S3Location(source.bucket(), prefix);
        List<ObjectInfo> objects = store.list(directory).stream()
                .filter(o -> !o.key().endsWith("/")) // folder markers some tools create
                .toList();
        if (objects.isEmpty()) {
            throw new InvalidInputException("source", directory + " holds no objects");
        }
        if (objects.size() > MAX_FILES) {
            throw new InvalidInputException(
                    "source", directory + " holds more than " + MAX_FILES + " objects: it is not a model directory");
        }
        Path work = workDirectory(name);
        try {
            for (ObjectInfo object : objects) {
                String file = fileName(
                        object.key().substring(prefix.length()), "s3://" + source.bucket() + "/" + object.key());
                try (InputStream in = store.get(new S3Location(source.bucket(), object.key()))) {
                    Files.copy(in, work.resolve(file));
                }
            }
            return importDirectory(name, work, directory.toString(), actor);
        } finally {
            LocalDirectories.deleteRecursively(work);
        }
    }

    private Outcome importDirectory(String name, Path directory, String source, String actor) throws IOException {
        // 1. verify and hash
        VerifiedModel verified = BaseModelVerifier.verify(directory);
        SortedMap<String, FileDigest> files = new TreeMap<>();
        Map<String, String> sha256ByFile = new TreeMap<>();
        long totalBytes = 0;
        try (Stream<Path> listing = Files.list(directory)) {
            for (Path file : listing.sorted().toList()) {
                String sha256 = Digests.of(file);
                long size = Files.size(file);
                files.put(file.getFileName().toString(), new FileDigest(size, sha256));
                sha256ByFile.put(file.getFileName().toString(), sha256);
                totalBytes += size;
            }
        }
        String sha256 = BaseModelFingerprints.combined(sha256ByFile);
        // 2. an existing base model of this name answers by content
        var existing = models.find(name);
        if (existing.isPresent()) {
            return sameContent(existing.get(), sha256);
        }
        // 3. claim the name for this content
        claim(name, sha256, actor);
        // 4. the files, config.json last
        for (String file : files.keySet()) {
            if (!file.equals(ModelConfigJson.FILE_NAME)) {
                store.putFile(ObjectKeys.baseModel(name, file), directory.resolve(file), LocalFiles.contentType(file));
            }
        }
        store.putFile(
                ObjectKeys.baseModel(name, ModelConfigJson.FILE_NAME),
                directory.resolve(ModelConfigJson.FILE_NAME),
                LocalFiles.contentType(ModelConfigJson.FILE_NAME));
        // 5. the manifest
        BaseModelManifest manifest = new BaseModelManifest(
                name,
                BaseModelManifest.IMPORTED,
                verified.type().hfName(),
                verified.type().architecture(),
                verified.parameters(),
                totalBytes,
                sha256,
                files,
                source,
                Instant.now(),
                actor);
        String manifestKey = ObjectKeys.baseModel(name, ObjectKeys.BASE_MODEL_MANIFEST);
        if (!json.create(manifestKey, manifest)) {
            return sameContent(json.read(manifestKey, BaseModelManifest.class).orElseThrow(), sha256);
        }
        fingerprints.record(name, sha256ByFile);
        return new Outcome(manifest, false);
    }

    private static Outcome sameContent(BaseModelManifest existing, String sha256) {
        if (!existing.sha256().equals(sha256)) {
            throw new RegistryConflictException(
                    "base model '" + existing.name() + "' already exists with other files" + " (sha256 "
                            + existing.sha256() + "; these files: " + sha256 + "): import them under another name");
        }
        return new Outcome(existing, true);
    }

    private void claim(String name, String sha256, String actor) {
        String key = RegistryKeys.baseModelImport(name);
        ImportClaim mine = new ImportClaim(sha256, Instant.now(), actor);
        if (json.create(key, mine)) {
            return;
        }
        var held = json.readTagged(key, ImportClaim.class).orElse(null);
        if (held == null) {
            if (json.create(key, mine)) {
                return;
            }
            throw busy(name, null);
        }
        if (held.value().sha256().equals(sha256)) {
            return;
        }
        boolean abandoned = held.value().startedAt().plus(CLAIM_EXPIRY).isBefore(Instant.now());
        if (!abandoned || !json.replace(key, mine, held.etag())) {
            throw busy(name, held.value());
        }
    }

    private static RegistryConflictException busy(String name, ImportClaim held) {
        return new RegistryConflictException("an import of other files as base model '" + name + "' is under way"
                + (held == null ? "" : " (by " + held.importedBy() + " since " + held.startedAt() + ")")
                + ": wait for it to finish, or import under another name");
    }

    private Path workDirectory(String name) throws IOException {
        Files.createDirectories(settings.workDir());
        return Files.createTempDirectory(settings.workDir(), "base-model-" + name + "-");
    }

    /** A file of the model directory: one plain name (no sub-directory), not the manifest's. */
    private static String fileName(String file, String where) {
        if (file.contains("/")) {
            throw new InvalidInputException(
                    "files", where + ": a base model's files sit directly in its directory (no sub-directories)");
        }
        Names.requireFilePath("file", file);
        if (file.equals(ObjectKeys.BASE_MODEL_MANIFEST)) {
            throw new InvalidInputException(
                    "files", where + ": " + ObjectKeys.BASE_MODEL_MANIFEST + " is the name of the import manifest");
        }
        return file;
    }
}
