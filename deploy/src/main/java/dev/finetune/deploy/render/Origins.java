package dev.finetune.deploy.render;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.deploy.ManifestException;
import dev.finetune.deploy.YamlDocuments;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which file each object of a rendering comes from, and which patch files changed it, so that problems
 * name the file to fix: {@code Deployment/x (from deploy/base/x.yaml, patched by deploy/overlays/dev/p.yaml)}.
 *
 * <p>This renders nothing (the tool does): it walks the kustomization's {@code resources}, {@code
 * components}, generators and {@code patches} in kustomize's order and matches objects by group, kind
 * and name, a generated ConfigMap or Secret with its content-hash suffix. An object it cannot place is
 * named after the rendering it is in.
 */
public final class Origins {
    private static final List<String> KUSTOMIZATION_FILES =
            List.of("kustomization.yaml", "kustomization.yml", "Kustomization");
    private static final Pattern HASH_SUFFIX = Pattern.compile("-[a-z0-9]{10}");

    private record Definition(String group, String kind, String name, boolean generated, String file) {}

    private record Patch(String group, String kind, Pattern name, String file) {}

    private final Path displayRoot;
    private final List<Definition> definitions = new ArrayList<>();
    private final List<Patch> patches = new ArrayList<>();

    private Origins(Path displayRoot) {
        this.displayRoot = displayRoot.toAbsolutePath().normalize();
    }

    /** The origins of what the kustomization in the directory renders; files named relative to displayRoot. */
    public static Origins of(Path kustomizationDir, Path displayRoot) {
        Origins origins = new Origins(displayRoot);
        origins.walk(kustomizationDir.toAbsolutePath().normalize());
        return origins;
    }

    /** The objects of a rendering (the tool's output or a snapshot of it), each with its origin. */
    public List<Resource> resources(String rendering, String renderingName) {
        return YamlDocuments.read(rendering, renderingName).stream()
                .map(body -> new Resource(body, sourcesOf(body, renderingName)))
                .toList();
    }

    private List<String> sourcesOf(ObjectNode object, String renderingName) {
        String group = group(object.path("apiVersion").asText());
        String kind = object.path("kind").asText();
        String name = object.path("metadata").path("name").asText();
        List<String> sources = new ArrayList<>();
        definitions.stream()
                .filter(d -> d.group().equals(group) && d.kind().equals(kind))
                .filter(d -> d.name().equals(name)
                        || d.generated()
                                && name.startsWith(d.name())
                                && HASH_SUFFIX
                                        .matcher(name.substring(d.name().length()))
                                        .matches())
                .findFirst()
                .ifPresentOrElse(d -> sources.add(d.file()), () -> sources.add(renderingName));
        for (Patch patch : patches) {
            boolean matches = (patch.group() == null || patch.group().equals(group))
                    && (patch.kind() == null || patch.kind().equals(kind))
                    && (patch.name() == null || patch.name().matcher(name).matches());
            if (matches && !sources.contains(patch.file())) {
                sources.add(patch.file());
            }
        }
        return sources;
    }

    private void walk(Path dir) {
        Path file = KUSTOMIZATION_FILES.stream()
                .map(dir::resolve)
                .filter(Files::isRegularFile)
                .findFirst()
                .orElseThrow(() -> new ManifestException(display(dir) + ": no kustomization.yaml"));
        String where = display(file);
        List<ObjectNode> documents = YamlDocuments.read(file, where);
        if (documents.isEmpty()) {
            return;
        }
        ObjectNode kustomization = documents.get(0);
        for (String entry : strings(kustomization.path("resources"))) {
            Path path = dir.resolve(entry).normalize();
            if (Files.isDirectory(path)) {
                walk(path);
            } else if (Files.isRegularFile(path)) {
                for (ObjectNode object : YamlDocuments.read(path, display(path))) {
                    definitions.add(new Definition(
                            group(object.path("apiVersion").asText()),
                            object.path("kind").asText(),
                            object.path("metadata").path("name").asText(),
                            false,
                            display(path)));
                }
            }
        }
        generated(kustomization.path("configMapGenerator"), "ConfigMap", where);
        generated(kustomization.path("secretGenerator"), "Secret", where);
        for (String entry : strings(kustomization.path("components"))) {
            walk(dir.resolve(entry).normalize());
        }
        for (JsonNode patch : kustomization.path("patches")) {
            patch(patch, dir, where);
        }
    }

    private void generated(JsonNode generators, String kind, String where) {
        for (JsonNode generator : generators) {
            definitions.add(new Definition("", kind, generator.path("name").asText(), true, where));
        }
    }

    private void patch(JsonNode patch, Path dir, String where) {
        String source;
        List<ObjectNode> documents;
        if (patch.hasNonNull("path")) {
            Path file = dir.resolve(patch.path("path").asText()).normalize();
            source = display(file);
            documents = Files.isRegularFile(file) ? YamlDocuments.read(file, source) : List.of();
        } else {
            source = where + " (inline patch)";
            documents = patch.path("patch").isTextual()
                    ? readInline(patch.path("patch").asText(), source)
                    : List.of();
        }
        JsonNode target = patch.path("target");
        if (target.isObject()) {
            patches.add(new Patch(
                    target.hasNonNull("group") ? target.path("group").asText() : null,
                    target.hasNonNull("kind") ? target.path("kind").asText() : null,
                    target.hasNonNull("name")
                            ? Pattern.compile(target.path("name").asText())
                            : null,
                    source));
            return;
        }
        for (ObjectNode document : documents) {
            patches.add(new Patch(
                    group(document.path("apiVersion").asText()),
                    document.path("kind").asText(),
                    Pattern.compile(
                            Pattern.quote(document.path("metadata").path("name").asText())),
                    source));
        }
    }

    /** An inline patch may be a JSON 6902 list rather than a mapping: then it names no object itself. */
    private static List<ObjectNode> readInline(String text, String source) {
        try {
            return YamlDocuments.read(text, source);
        } catch (ManifestException e) {
            return List.of();
        }
    }

    private static List<String> strings(JsonNode list) {
        List<String> strings = new ArrayList<>();
        list.forEach(entry -> strings.add(entry.asText()));
        return strings;
    }

    private static String group(String apiVersion) {
        int slash = apiVersion.indexOf('/');
        return slash < 0 ? "" : apiVersion.substring(0, slash);
    }

    private String display(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        return absolute.startsWith(displayRoot)
                ? displayRoot.relativize(absolute).toString()
                : absolute.toString();
    }
}
