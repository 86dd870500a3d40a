package dev.finetune.deploy.kustomize;

import dev.finetune.deploy.ManifestException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves the files a kustomization names, with kustomize's rules, and names them for messages. */
final class Sources {
    private final Path displayRoot;

    Sources(Path displayRoot) {
        this.displayRoot = displayRoot.toAbsolutePath().normalize();
    }

    /** The path relative to the display root (the repository), or absolute when outside it. */
    String display(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        return absolute.startsWith(displayRoot)
                ? displayRoot.relativize(absolute).toString()
                : absolute.toString();
    }

    /**
     * A file a kustomization reads (a resource file, patch or generator input). Kustomize refuses files
     * outside the kustomization's directory; only directories (other kustomizations) may be elsewhere.
     */
    Path inside(Path dir, String relative, String where) {
        Path file = dir.resolve(relative).toAbsolutePath().normalize();
        if (!file.startsWith(dir.toAbsolutePath().normalize())) {
            throw new ManifestException(where + ": " + relative + " is outside " + display(dir)
                    + " (kustomize refuses files outside the kustomization directory)");
        }
        if (!Files.isRegularFile(file)) {
            throw new ManifestException(where + ": " + relative + " does not exist");
        }
        return file;
    }
}
