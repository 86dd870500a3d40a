package dev.finetune.training.worker;

import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.metrics.TrainingRunMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * Moves a worker's files to and from the object store: base models and datasets in, checkpoints
 * out and (to resume elsewhere) back in. A checkpoint's manifest {@code trainer_state.json} is
 * uploaded last, so a checkpoint without it in the store is incomplete and never resumed from.
 */
@ApplicationScoped
public class Artifacts {
    static final String MANIFEST = "trainer_state.json";

    private final ObjectStore store;
    private final TrainingRunMetrics metrics;

    Artifacts(ObjectStore store, TrainingRunMetrics metrics) {
        this.store = store;
        this.metrics = metrics;
    }

    /** Downloads every object under {@code prefix} into {@code dir} (kept as a cache if complete). */
    public Path downloadPrefix(String prefix, Path dir) throws IOException {
        Path marker = dir.resolve(".complete");
        if (Files.exists(marker)) {
            return dir;
        }
        List<ObjectInfo> objects = store.list(prefix);
        if (objects.isEmpty()) {
            throw new IOException("nothing stored under " + prefix);
        }
        for (ObjectInfo object : objects) {
            store.download(object.key(), dir.resolve(object.key().substring(prefix.length())));
        }
        Files.writeString(marker, prefix);
        return dir;
    }

    /** Uploads a local checkpoint (or result) directory under the job's step prefix, manifest last. */
    public String uploadCheckpoint(String jobId, long step, Path dir) throws IOException {
        long started = System.nanoTime();
        long bytes = 0;
        String prefix = ObjectKeys.checkpointPrefix(jobId, step);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        Path manifest = null;
        for (Path file : files) {
            if (file.getFileName().toString().equals(MANIFEST)) {
                manifest = file;
                continue;
            }
            bytes += store.putFile(prefix + dir.relativize(file).toString().replace('\\', '/'), file, contentType(file))
                    .size();
        }
        if (manifest != null) {
            bytes += store.putFile(prefix + dir.relativize(manifest), manifest, "application/json")
                    .size();
        }
        metrics.checkpointUploaded(System.nanoTime() - started, bytes);
        return prefix;
    }

    /** The step of the newest complete checkpoint of a job in the object store. */
    public OptionalLong latestCheckpoint(String jobId) {
        String prefix = ObjectKeys.checkpointsPrefix(jobId);
        return store.listChildren(prefix).stream()
                .filter(name -> name.matches("step-\\d+"))
                .mapToLong(name -> Long.parseLong(name.substring("step-".length())))
                .filter(step -> store.exists(ObjectKeys.checkpoint(jobId, step, MANIFEST)))
                .max();
    }

    /** Brings a stored checkpoint into the run directory where the recipe resumes from it. */
    public void restoreCheckpoint(String jobId, long step, Path outputDir) throws IOException {
        Path target = outputDir.resolve("checkpoint-" + step);
        if (Files.exists(target.resolve(MANIFEST))) {
            return;
        }
        downloadPrefix(ObjectKeys.checkpointPrefix(jobId, step), target);
        Files.deleteIfExists(target.resolve(".complete"));
    }

    private static String contentType(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".json") ? "application/json" : "application/octet-stream";
    }
}
