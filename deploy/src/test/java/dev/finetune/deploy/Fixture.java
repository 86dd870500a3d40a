package dev.finetune.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.deploy.render.Origins;
import dev.finetune.deploy.render.Resource;
import dev.finetune.deploy.validation.ManifestProblem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A copy of the valid application in src/test/resources/fixture in a temporary directory ({@code
 * <tempDir>/fixture}), which a test breaks in one place before validating it.
 *
 * <p>The fixture's kustomization lists plain resource files and nothing else, so what Kustomize renders
 * from it is their objects: {@link #problems()} validates that rendering written out by hand (their
 * documents, one after the other), which needs no tool; ManifestValidatorTest checks, with the tool,
 * that it renders the same objects.
 */
final class Fixture {
    private static final Path ORIGINAL = Repo.DEPLOY.resolve("src/test/resources/fixture");

    /** The temporary directory; the fixture is its subdirectory {@code fixture}, an overlay may sit beside it. */
    final Path root;

    final Path dir;

    Fixture(Path tempDir) {
        this.root = tempDir;
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
        write(dir.resolve(file), content);
        return this;
    }

    /** Every problem of the fixture's hand-written rendering, as text; files named relative to the fixture. */
    List<String> problems() {
        Origins origins = Origins.of(dir, dir); // reads every file strictly: a key given twice names its file
        return problems(origins.resources(handWrittenRendering(), "fixture rendering"));
    }

    /** The rendering Kustomize would print for the fixture, modulo its order of objects and fields. */
    String handWrittenRendering() {
        List<ObjectNode> documents = YamlDocuments.read(dir.resolve("kustomization.yaml"), "kustomization.yaml");
        ObjectNode kustomization = documents.get(0);
        List<String> fields = new ArrayList<>();
        kustomization.fieldNames().forEachRemaining(fields::add);
        if (!Set.of("apiVersion", "kind", "resources").containsAll(fields)) {
            throw new IllegalStateException("the fixture's rendering is written by hand for plain resources only, "
                    + "its kustomization has " + fields);
        }
        List<String> files = new ArrayList<>();
        for (JsonNode resource : kustomization.path("resources")) {
            files.add(read(resource.asText()));
        }
        return String.join("\n---\n", files);
    }

    /**
     * Every problem of what the tool renders from a kustomization in the temporary directory (the fixture
     * or an overlay beside it), as text; files named relative to the temporary directory.
     */
    List<String> problemsRenderedByTool(Path kustomizationDir) {
        Origins origins = Origins.of(kustomizationDir, root);
        return problems(origins.resources(Repo.tool().build(kustomizationDir), "tool rendering"));
    }

    static void write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<String> problems(List<Resource> resources) {
        return Repo.problems(resources, dir.resolve("README.md")).stream()
                .map(ManifestProblem::toString)
                .toList();
    }

    private String read(String file) {
        try {
            return Files.readString(dir.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
