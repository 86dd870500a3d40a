package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.optim.AdamW;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.io.file.PathUtils;

/**
 * The resumable checkpoints of a run, {@code <output>/checkpoint-<step>/}, as transformers names
 * them. A checkpoint is written into a temporary sibling directory, every file flushed to disk, the
 * manifest {@link TrainerState} last, then renamed into place: a reader sees a complete checkpoint or
 * none, and a directory without a valid manifest (a crash mid-write) is never resumed from.
 */
final class TrainingCheckpoints {
    static final String MANIFEST = "trainer_state.json";
    static final String OPTIMIZER = "optimizer.safetensors";
    private static final String PREFIX = "checkpoint-";
    private static final String TEMPORARY_PREFIX = ".tmp-checkpoint-";
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    private static final String FIRST_MOMENT = "exp_avg/";
    private static final String SECOND_MOMENT = "exp_avg_sq/";

    private final Path outputDir;
    private final int keepLast;

    /** @param keepLast keep only the newest this many complete checkpoints; 0 keeps all */
    TrainingCheckpoints(Path outputDir, int keepLast) {
        this.outputDir = outputDir;
        this.keepLast = keepLast;
    }

    /** Writes the files of a checkpoint into a directory and returns their names. */
    @FunctionalInterface
    interface Contents {
        List<String> writeInto(Path directory) throws IOException;
    }

    Path directoryOf(int step) {
        return outputDir.resolve(PREFIX + step);
    }

    /**
     * Writes checkpoint {@code step} atomically and prunes old ones. If a complete checkpoint of this
     * step exists already (a run resumed at its last step), it is kept as it is.
     *
     * @param state the manifest; its file list is filled in here
     */
    Path write(int step, Contents contents, TrainerState state) throws IOException {
        Path target = directoryOf(step);
        if (isComplete(target)) {
            return target;
        }
        Files.createDirectories(outputDir);
        Path temporary = outputDir.resolve(TEMPORARY_PREFIX + step + "-" + System.nanoTime());
        Files.createDirectory(temporary);
        try {
            Map<String, Long> files = new TreeMap<>();
            for (String name : contents.writeInto(temporary)) {
                Path file = temporary.resolve(name);
                force(file);
                files.put(name, Files.size(file));
            }
            TrainerState complete = state.withFiles(files);
            Path manifest = temporary.resolve(MANIFEST);
            complete.write(manifest);
            force(manifest);
            force(temporary);
            if (Files.exists(target)) {
                deleteRecursively(target); // an incomplete leftover of a crashed save of this step
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
            force(outputDir);
        } catch (IOException | RuntimeException e) {
            deleteRecursively(temporary);
            throw e;
        }
        prune(state.bestGlobalStep());
        return target;
    }

    /** The complete checkpoint with the highest step, if any. */
    Optional<Path> latest() throws IOException {
        TreeMap<Integer, Path> all = complete();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.lastEntry().getValue());
    }

    /** Complete checkpoints by step. */
    TreeMap<Integer, Path> complete() throws IOException {
        TreeMap<Integer, Path> found = new TreeMap<>();
        if (!Files.isDirectory(outputDir)) {
            return found;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(outputDir, PREFIX + "*")) {
            for (Path entry : entries) {
                Matcher matcher = NAME.matcher(entry.getFileName().toString());
                if (matcher.matches() && isComplete(entry)) {
                    found.put(Integer.parseInt(matcher.group(1)), entry);
                }
            }
        }
        return found;
    }

    /**
     * Whether {@code directory} holds a readable manifest whose step matches its name and whose
     * files all exist with the recorded sizes.
     */
    static boolean isComplete(Path directory) {
        Path manifest = directory.resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            return false;
        }
        try {
            TrainerState state = TrainerState.read(manifest);
            if (state.formatVersion() != TrainerState.FORMAT_VERSION
                    || !directory.getFileName().toString().equals(PREFIX + state.globalStep())
                    || state.files() == null) {
                return false;
            }
            for (Map.Entry<String, Long> file : state.files().entrySet()) {
                Path path = directory.resolve(file.getKey());
                if (!Files.isRegularFile(path) || Files.size(path) != file.getValue()) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false; // an unreadable manifest: not a complete checkpoint
        }
    }

    /** Removes temporary directories left by saves that crashed. */
    void removeIncomplete() throws IOException {
        if (!Files.isDirectory(outputDir)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(outputDir, TEMPORARY_PREFIX + "*")) {
            for (Path entry : entries) {
                deleteRecursively(entry);
            }
        }
    }

    /**
     * Deletes the oldest checkpoints beyond {@code keepLast}, never the newest (resumed from) nor the
     * best one (as transformers, which keeps one more than the limit when both differ and the limit is 1).
     *
     * @param best the step of the best checkpoint, or null
     */
    private void prune(Integer best) throws IOException {
        if (keepLast <= 0) {
            return;
        }
        TreeMap<Integer, Path> all = complete();
        TreeMap<Integer, Path> deletable = new TreeMap<>(all.headMap(all.lastKey()));
        if (best != null) {
            deletable.remove(best);
        }
        int kept = all.size();
        while (kept > keepLast && !deletable.isEmpty()) {
            deleteRecursively(deletable.pollFirstEntry().getValue());
            kept--;
        }
    }

    /** Writes AdamW's moments with their parameter names; the step goes into the manifest. */
    static String writeOptimizer(Path directory, AdamW optimizer) throws IOException {
        Map<String, NDArray> moments = new LinkedHashMap<>();
        optimizer.firstMoments().forEach((name, m) -> moments.put(FIRST_MOMENT + name, m));
        optimizer.secondMoments().forEach((name, v) -> moments.put(SECOND_MOMENT + name, v));
        TensorFiles.writeArrays(directory.resolve(OPTIMIZER), moments, Map.of("optimizer", "adamw"));
        return OPTIMIZER;
    }

    static void restoreOptimizer(Path directory, AdamW optimizer, int step) throws CheckpointException {
        Map<String, float[]> saved = TensorFiles.read(directory.resolve(OPTIMIZER));
        Map<String, float[]> first = new LinkedHashMap<>();
        Map<String, float[]> second = new LinkedHashMap<>();
        saved.forEach((name, values) -> {
            if (name.startsWith(FIRST_MOMENT)) {
                first.put(name.substring(FIRST_MOMENT.length()), values);
            } else if (name.startsWith(SECOND_MOMENT)) {
                second.put(name.substring(SECOND_MOMENT.length()), values);
            }
        });
        optimizer.restore(step, first, second);
    }

    private static void force(Path path) throws IOException {
        boolean directory = Files.isDirectory(path);
        try (FileChannel channel =
                FileChannel.open(path, directory ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            channel.force(true);
        } catch (IOException e) {
            if (!directory) {
                throw e;
            }
            // some file systems cannot open directories for sync; the rename is still atomic there
        }
    }

    static void deleteRecursively(Path root) throws IOException {
        if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            PathUtils.delete(root);
        }
    }
}
