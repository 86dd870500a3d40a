package dev.finetune.deploy;

import dev.finetune.deploy.kustomize.KustomizeRenderer;
import dev.finetune.deploy.validation.Problem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A copy of the valid application in src/test/resources/fixture in a temporary directory, which a test
 * breaks in one place before rendering and validating it.
 */
final class Fixture {
    private static final Path ORIGINAL = Repo.DEPLOY.resolve("src/test/resources/fixture");

    final Path dir;

    Fixture(Path tempDir) {
        this.dir = tempDir.resolve("fixture");
        try (Stream<Path> files = Files.list(ORIGINAL)) {
            Files.createDirectories(dir);
            for (Path file : files.toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces the first occurrence of a text in a file, failing if it is not there. */
    Fixture replace(String file, String text, String replacement) {
        String content = read(file);
        int at = content.indexOf(text);
        if (at < 0) {
            throw new IllegalArgumentException(file + " has no " + text);
        }
        return write(file, content.substring(0, at) + replacement + content.substring(at + text.length()));
    }

    Fixture append(String file, String text) {
        return write(file, read(file) + text);
    }

    Fixture write(String file, String content) {
        try {
            Files.createDirectories(dir.resolve(file).getParent());
            Files.writeString(dir.resolve(file), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Every problem of the rendered fixture (or of the kustomization in a subdirectory), as text. */
    List<String> problems(String kustomization) {
        var resources = new KustomizeRenderer(dir).render(dir.resolve(kustomization));
        return Repo.problems(resources, dir.resolve("README.md")).stream()
                .map(Problem::toString)
                .toList();
    }

    List<String> problems() {
        return problems(".");
    }

    private String read(String file) {
        try {
            return Files.readString(dir.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
