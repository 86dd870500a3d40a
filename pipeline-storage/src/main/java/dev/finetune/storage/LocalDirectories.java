package dev.finetune.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.apache.commons.io.file.PathUtils;

/** The local working directories services stage object-store files in. */
public final class LocalDirectories {
    private LocalDirectories() {}

    /** Deletes a directory tree (or a file); a missing one is fine. */
    public static void deleteRecursively(Path root) throws IOException {
        if (root != null && Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            PathUtils.delete(root);
        }
    }
}
