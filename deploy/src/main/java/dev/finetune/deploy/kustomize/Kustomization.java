package dev.finetune.deploy.kustomize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.deploy.JsonPaths;
import dev.finetune.deploy.ManifestException;
import dev.finetune.deploy.YamlDocuments;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The part of a kustomization.yaml this renderer implements. Any other field fails the read, naming
 * it, so a manifest can never silently use a feature the Java renderer ignores.
 */
record Kustomization(
        String apiVersion,
        String kind,
        String namespace,
        List<String> resources,
        List<String> components,
        List<LabelSet> labels,
        List<ImageOverride> images,
        List<ReplicaCount> replicas,
        List<PatchRef> patches,
        List<ConfigMapArgs> configMapGenerator) {

    Kustomization {
        resources = orEmpty(resources);
        components = orEmpty(components);
        labels = orEmpty(labels);
        images = orEmpty(images);
        replicas = orEmpty(replicas);
        patches = orEmpty(patches);
        configMapGenerator = orEmpty(configMapGenerator);
    }

    /** {@code labels:} entries; selectors are immutable once deployed, so they are never included. */
    record LabelSet(Map<String, String> pairs, boolean includeTemplates) {}

    record ImageOverride(String name, String newName, String newTag, String digest) {}

    record ReplicaCount(String name, int count) {}

    /** A strategic-merge patch from a file or inline, applied to its own kind/name or to every target match. */
    record PatchRef(String path, String patch, PatchTarget target) {}

    record PatchTarget(String group, String version, String kind, String name) {}

    record ConfigMapArgs(String name, List<String> envs, List<String> files) {
        ConfigMapArgs {
            envs = orEmpty(envs);
            files = orEmpty(files);
        }
    }

    static Kustomization read(Path file, String displayName) {
        List<ObjectNode> docs = YamlDocuments.read(file, displayName);
        if (docs.size() != 1) {
            throw new ManifestException(displayName + ": expected one document, found " + docs.size());
        }
        ObjectMapper mapper = YamlDocuments.json();
        try {
            return mapper.treeToValue(docs.get(0), Kustomization.class);
        } catch (UnrecognizedPropertyException e) {
            throw new ManifestException(displayName + ": '" + e.getPropertyName() + "' at " + JsonPaths.of(e)
                    + " is not supported by this renderer (supported: " + e.getKnownPropertyIds() + ")");
        } catch (Exception e) {
            throw new ManifestException(
                    displayName + ": " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }
}
