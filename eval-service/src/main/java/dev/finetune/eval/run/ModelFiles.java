package dev.finetune.eval.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.eval.EvalSettings;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.RegisteredFiles;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Brings what an evaluation reads to local disk: base models and dataset splits (kept as a cache:
 * both are immutable once stored) and checkpoints (into a directory the caller deletes). Store
 * errors propagate (retriable); a missing object is an {@link EvaluationFailure}.
 */
@ApplicationScoped
public class ModelFiles {
    private static final String COMPLETE = ".complete";

    private final ObjectStore store;
    private final Path workDir;
    private final ObjectMapper json = new ObjectMapper();

    ModelFiles(ObjectStore store, EvalSettings settings) {
        this.store = store;
        this.workDir = settings.workDir();
    }

    public Path baseModel(String name) {
        Path dir = workDir.resolve("models").resolve(name);
        if (Files.exists(dir.resolve(COMPLETE))) {
            return dir;
        }
        downloadPrefix(ObjectKeys.baseModelPrefix(name), dir, "base model '" + name + "'");
        write(dir.resolve(COMPLETE), name);
        return dir;
    }

    /**
     * A registered version's files (a reward model a job's {@code reward_funcs} names), each checked
     * against the size and SHA-256 the version's manifest records, and kept as a cache: a registered
     * version never changes.
     *
     * @throws EvaluationFailure if the version has no manifest (it is not complete) or a file is not
     *     what the registry recorded (naming the key and both sizes and hashes)
     */
    public Path registered(String model, long version) {
        Path dir = workDir.resolve("registry").resolve(model).resolve(Long.toString(version));
        if (Files.exists(dir.resolve(COMPLETE))) {
            return dir;
        }
        String manifestKey = ObjectKeys.registryManifest(model, version);
        JsonNode manifest;
        try {
            manifest = json.readTree(store.getBytes(manifestKey));
        } catch (ObjectNotFoundException e) {
            throw new EvaluationFailure("registered model " + model + "@" + version + " has no manifest at "
                    + manifestKey + ": it is not a complete version");
        } catch (IOException e) {
            throw new EvaluationFailure(manifestKey + " is not a registry manifest: " + e.getMessage());
        }
        try {
            for (Map.Entry<String, RegisteredFiles.Recorded> file :
                    RegisteredFiles.of(manifest).entrySet()) {
                String key = ObjectKeys.registry(model, version, file.getKey());
                Optional<String> found =
                        RegisteredFiles.download(store, key, file.getValue(), dir.resolve(file.getKey()));
                if (found.isPresent()) {
                    throw new EvaluationFailure(key + " does not match the version's manifest: " + found.get()
                            + ", recorded " + file.getValue().describe());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        write(dir.resolve(COMPLETE), model + "@" + version);
        return dir;
    }

    /**
     * A split of a prepared dataset, or empty if the dataset has no such split or the split holds no
     * line: a small dataset can be prepared with an empty split (32 prompts gave 31 / 1 / 0), and
     * callers then use another.
     */
    public Optional<Path> split(String dataset, String version, String split) {
        Path file =
                workDir.resolve("datasets").resolve(dataset).resolve(version).resolve(split + ".jsonl");
        if (Files.exists(file)) {
            return nonEmpty(file);
        }
        String key = ObjectKeys.preparedDataset(dataset, version, split + ".jsonl");
        if (!store.exists(key)) {
            if (!store.exists(ObjectKeys.preparedDataset(dataset, version, "manifest.json"))) {
                throw new EvaluationFailure("dataset " + dataset + "@" + version + " is not prepared: no "
                        + ObjectKeys.preparedDataset(dataset, version, "manifest.json"));
            }
            return Optional.empty();
        }
        Path partial = file.resolveSibling(split + ".jsonl.part");
        store.download(key, partial);
        move(partial, file);
        return nonEmpty(file);
    }

    private static Optional<Path> nonEmpty(Path file) {
        try {
            return Files.size(file) > 0 ? Optional.of(file) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Downloads the checkpoint (adapter or full weights) under {@code prefix} into a fresh directory. */
    public Path checkpoint(String prefix) {
        try {
            Path dir = Files.createTempDirectory(Files.createDirectories(workDir.resolve("checkpoints")), "ckpt-");
            downloadPrefix(prefix, dir, "checkpoint");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("deleting " + dir, e);
        }
    }

    private void downloadPrefix(String prefix, Path dir, String what) {
        List<ObjectInfo> objects = store.list(prefix);
        if (objects.isEmpty()) {
            throw new EvaluationFailure(what + ": nothing stored under " + prefix);
        }
        for (ObjectInfo object : objects) {
            String relative = object.key().substring(prefix.length());
            if (!relative.contains("/")) { // nested objects (e.g. optimizer state dirs) are not needed
                store.download(object.key(), dir.resolve(relative));
            }
        }
    }

    private static void move(Path from, Path to) {
        try {
            Files.move(from, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path file, String content) {
        try {
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
