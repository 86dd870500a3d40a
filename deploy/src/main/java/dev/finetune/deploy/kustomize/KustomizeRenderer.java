package dev.finetune.deploy.kustomize;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.deploy.ManifestException;
import dev.finetune.deploy.YamlDocuments;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a kustomization the way {@code kubectl kustomize} does, for the features our manifests use:
 * resources (files and directories), components, configMapGenerator, strategic-merge patches (own
 * kind/name or a target), namespace, labels, replicas and images. Anything else in a kustomization.yaml
 * is refused by {@link Kustomization}, so output from this renderer is never silently incomplete.
 *
 * <p>The steps run in kustomize's order: resources, generators, components (each transforming
 * everything accumulated so far), then the kustomization's own transformers; content-hash suffixes
 * and the references to them are settled once, at the top.
 */
public final class KustomizeRenderer {
    private final Sources sources;

    /** @param displayRoot files in messages are named relative to this directory (the repository). */
    public KustomizeRenderer(Path displayRoot) {
        this.sources = new Sources(displayRoot);
    }

    public List<Resource> render(Path kustomizationDir) {
        List<Resource> resources = accumulate(kustomizationDir, new ArrayList<>(), false);
        for (Resource r : resources) {
            if (r.hashSuffix()) {
                String name = r.name();
                String hashed = name + "-" + ConfigMapGenerator.hashSuffix(r.body());
                ((ObjectNode) r.body().get("metadata")).put("name", hashed);
                Transformers.renameConfigMapReferences(resources, r.namespace(), name, hashed);
            }
        }
        return resources;
    }

    private List<Resource> accumulate(Path dir, List<Resource> resources, boolean component) {
        Path file = kustomizationFile(dir);
        String where = sources.display(file);
        Kustomization k = Kustomization.read(file, where);
        String expectedKind = component ? "Component" : "Kustomization";
        if (component
                ? !"Component".equals(k.kind())
                : k.kind() != null && !k.kind().equals(expectedKind)) {
            throw new ManifestException(where + ": kind must be " + expectedKind + ", is " + k.kind());
        }
        for (String entry : k.resources()) {
            Path path = dir.resolve(entry).normalize();
            if (Files.isDirectory(path)) {
                add(resources, accumulate(path, new ArrayList<>(), false));
            } else {
                Path resourceFile = sources.inside(dir, entry, where);
                String display = sources.display(resourceFile);
                add(
                        resources,
                        YamlDocuments.read(resourceFile, display).stream()
                                .map(body -> new Resource(body, display, false))
                                .toList());
            }
        }
        k.configMapGenerator()
                .forEach(args -> add(resources, List.of(ConfigMapGenerator.generate(args, dir, sources))));
        for (String entry : k.components()) {
            accumulate(dir.resolve(entry).normalize(), resources, true);
        }
        for (Kustomization.PatchRef patch : k.patches()) {
            applyPatch(patch, dir, where, resources);
        }
        if (k.namespace() != null) {
            Transformers.namespace(resources, k.namespace());
        }
        k.labels().forEach(labels -> Transformers.labels(resources, labels));
        k.replicas().forEach(replicas -> Transformers.replicas(resources, replicas, where));
        k.images().forEach(image -> Transformers.image(resources, image, where));
        return resources;
    }

    private void applyPatch(Kustomization.PatchRef patch, Path dir, String where, List<Resource> resources) {
        List<ObjectNode> documents;
        String patchSource;
        if (patch.path() != null) {
            Path patchFile = sources.inside(dir, patch.path(), where);
            patchSource = sources.display(patchFile);
            documents = YamlDocuments.read(patchFile, patchSource);
        } else if (patch.patch() != null) {
            patchSource = where + " (inline patch)";
            documents = YamlDocuments.read(patch.patch(), patchSource);
        } else {
            throw new ManifestException(where + ": a patch needs a path or a patch");
        }
        for (ObjectNode document : documents) {
            List<Resource> targets = resources.stream()
                    .filter(r -> patch.target() == null ? sameObject(r, document) : matches(r, patch.target()))
                    .toList();
            if (targets.isEmpty()) {
                throw new ManifestException(patchSource + ": no resource matches "
                        + (patch.target() != null
                                ? patch.target()
                                : document.path("kind").asText() + "/"
                                        + document.path("metadata").path("name").asText()));
            }
            targets.forEach(target -> StrategicMerge.apply(target, document, patchSource));
        }
    }

    private static boolean sameObject(Resource r, ObjectNode patch) {
        String apiVersion = patch.path("apiVersion").asText();
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        return r.kind().equals(patch.path("kind").asText())
                && r.group().equals(group)
                && r.name().equals(patch.path("metadata").path("name").asText());
    }

    private static boolean matches(Resource r, Kustomization.PatchTarget target) {
        return (target.kind() == null || target.kind().equals(r.kind()))
                && (target.name() == null || r.name().matches(target.name()))
                && (target.group() == null || target.group().equals(r.group()))
                && (target.version() == null || r.apiVersion().endsWith(target.version()));
    }

    /** Adds resources, refusing a second object with the same kind, namespace and name. */
    private static void add(List<Resource> resources, List<Resource> more) {
        Map<String, Resource> byId = new HashMap<>();
        resources.forEach(r -> byId.put(r.group() + ":" + r.id(), r));
        for (Resource r : more) {
            Resource earlier = byId.putIfAbsent(r.group() + ":" + r.id(), r);
            if (earlier != null) {
                throw new ManifestException(r.id() + " is defined twice: in "
                        + earlier.sources().get(0) + " and in " + r.sources().get(0));
            }
            resources.add(r);
        }
    }

    private Path kustomizationFile(Path dir) {
        for (String name : List.of("kustomization.yaml", "kustomization.yml", "Kustomization")) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        throw new ManifestException(sources.display(dir) + ": no kustomization.yaml");
    }
}
