package dev.finetune.cli.run;

import dev.finetune.storage.LocalDirectories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The directory a run writes its logs, work files and the stack's data to. A run empties it first,
 * but only if an earlier run made it (it holds the marker file): {@code --work-dir .} or a home
 * directory by mistake is refused, never deleted.
 */
final class RunDirectory {
    static final String MARKER = ".finetune-run";

    private RunDirectory() {}

    static void prepare(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--work-dir: " + dir + " is a file, not a directory");
        }
        if (Files.isDirectory(dir) && !isEmpty(dir)) {
            if (!Files.exists(dir.resolve(MARKER))) {
                throw new IllegalArgumentException("--work-dir: " + dir + " is not empty and was not made by an"
                        + " earlier run (no " + MARKER + " in it); give a new or empty directory");
            }
            LocalDirectories.deleteRecursively(dir);
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(MARKER), "made by finetune run; the next run empties this directory\n");
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }
}
