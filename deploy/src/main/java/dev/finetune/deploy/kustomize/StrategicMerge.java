package dev.finetune.deploy.kustomize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.deploy.JsonPaths;
import dev.finetune.deploy.ManifestException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Kubernetes strategic merge patch, as kustomize applies it: maps merge recursively, a null deletes
 * the key, and lists replace the old one unless they have a merge key. Built-in kinds use the merge
 * keys of the Kubernetes API (containers and env by name, volumeMounts by mountPath, ...); custom
 * resources have no schema, so kustomize replaces their lists whole (a KEDA trigger list, say).
 * Merged lists keep kustomize's order: the patch's elements first, then the remaining old ones.
 */
final class StrategicMerge {
    /** List fields of built-in kinds that merge, with their key. */
    private static final Map<String, String> BUILT_IN_MERGE_KEYS = Map.of(
            "containers", "name",
            "initContainers", "name",
            "ephemeralContainers", "name",
            "env", "name",
            "volumes", "name",
            "imagePullSecrets", "name",
            "volumeMounts", "mountPath",
            "volumeDevices", "devicePath");

    private final boolean builtInKind;
    private final String kind;
    private final String patchFile;

    private StrategicMerge(Resource target, String patchFile) {
        this.builtInKind = !target.group().contains(".") || target.group().endsWith(".k8s.io");
        this.kind = target.kind();
        this.patchFile = patchFile;
    }

    static void apply(Resource target, ObjectNode patch, String patchFile) {
        ObjectNode body = patch.deepCopy();
        body.remove("apiVersion");
        body.remove("kind");
        if (body.path("metadata").isObject()) {
            ((ObjectNode) body.get("metadata")).remove(List.of("name", "namespace"));
        }
        new StrategicMerge(target, patchFile).mergeMaps(target.body(), body, "");
        target.patchedBy(patchFile);
    }

    private void mergeMaps(ObjectNode target, ObjectNode patch, String path) {
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = field.getKey();
            String at = JsonPaths.child(path, key);
            if (key.startsWith("$")) {
                throw new ManifestException(patchFile + ": patch directive " + key + " at " + at + " is not supported");
            }
            JsonNode value = field.getValue();
            JsonNode old = target.get(key);
            if (value.isNull()) {
                target.remove(key);
            } else if (value.isObject() && old != null && old.isObject()) {
                mergeMaps((ObjectNode) old, (ObjectNode) value, at);
            } else if (value.isArray() && old != null && old.isArray()) {
                target.set(key, mergeLists((ArrayNode) old, (ArrayNode) value, key, path, at));
            } else {
                target.set(key, withoutNulls(value.deepCopy()));
            }
        }
    }

    private JsonNode mergeLists(ArrayNode old, ArrayNode patch, String field, String parentPath, String at) {
        String mergeKey = mergeKey(field, parentPath);
        if (mergeKey == null) {
            return withoutNulls(patch.deepCopy());
        }
        ArrayNode merged = old.arrayNode();
        Set<String> patched = new HashSet<>();
        for (JsonNode element : patch) {
            String key = element.path(mergeKey).asText();
            patched.add(key);
            ObjectNode result = findByKey(old, mergeKey, key);
            if (result == null) {
                merged.add(withoutNulls(element.deepCopy()));
            } else {
                ObjectNode copy = result.deepCopy();
                mergeMaps(copy, (ObjectNode) element, at + "[" + key + "]");
                merged.add(copy);
            }
        }
        for (JsonNode element : old) {
            if (!patched.contains(element.path(mergeKey).asText())) {
                merged.add(element);
            }
        }
        return merged;
    }

    private String mergeKey(String field, String parentPath) {
        if (!builtInKind) {
            return null;
        }
        if (field.equals("ports")) {
            return kind.equals("Service") && parentPath.equals("spec") ? "port" : "containerPort";
        }
        return BUILT_IN_MERGE_KEYS.get(field);
    }

    private static ObjectNode findByKey(ArrayNode list, String mergeKey, String key) {
        for (JsonNode element : list) {
            if (element.isObject() && element.path(mergeKey).asText().equals(key)) {
                return (ObjectNode) element;
            }
        }
        return null;
    }

    private static JsonNode withoutNulls(JsonNode node) {
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            List<String> nulls = new ArrayList<>();
            object.fields().forEachRemaining(f -> {
                if (f.getValue().isNull()) {
                    nulls.add(f.getKey());
                } else {
                    withoutNulls(f.getValue());
                }
            });
            object.remove(nulls);
        } else if (node.isArray()) {
            node.forEach(StrategicMerge::withoutNulls);
        }
        return node;
    }
}
