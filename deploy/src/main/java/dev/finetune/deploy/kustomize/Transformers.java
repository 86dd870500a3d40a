package dev.finetune.deploy.kustomize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.deploy.ManifestException;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/** Kustomize's built-in transformers for namespace, labels, replicas, images and generated names. */
final class Transformers {
    /** Kinds without a namespace; the namespace transformer leaves them alone. */
    private static final Set<String> CLUSTER_SCOPED = Set.of(
            "Namespace",
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition",
            "PersistentVolume",
            "StorageClass",
            "PriorityClass",
            "ClusterTriggerAuthentication");

    /** Kinds whose pod template gets the labels (kustomize's templateLabels field specs). */
    private static final Set<String> WORKLOADS =
            Set.of("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "ReplicationController");

    private static final Set<String> SCALABLE =
            Set.of("Deployment", "ReplicaSet", "StatefulSet", "ReplicationController");

    private Transformers() {}

    static void namespace(List<Resource> resources, String namespace) {
        for (Resource r : resources) {
            if (!CLUSTER_SCOPED.contains(r.kind())) {
                metadata(r.body()).put("namespace", namespace);
            }
        }
    }

    static void labels(List<Resource> resources, Kustomization.LabelSet labels) {
        for (Resource r : resources) {
            ObjectNode target = metadata(r.body()).withObjectProperty("labels");
            labels.pairs().forEach(target::put);
            if (labels.includeTemplates() && WORKLOADS.contains(r.kind())) {
                ObjectNode template = r.body().withObjectProperty("spec").withObjectProperty("template");
                ObjectNode templateLabels = metadata(template).withObjectProperty("labels");
                labels.pairs().forEach(templateLabels::put);
            }
        }
    }

    static void replicas(List<Resource> resources, Kustomization.ReplicaCount replicas, String where) {
        List<Resource> matches = resources.stream()
                .filter(r -> SCALABLE.contains(r.kind()) && r.name().equals(replicas.name()))
                .toList();
        if (matches.isEmpty()) {
            throw new ManifestException(where + ": replicas: no Deployment or StatefulSet named " + replicas.name());
        }
        matches.forEach(r -> r.body().withObjectProperty("spec").put("replicas", replicas.count()));
    }

    /** Rewrites every container and init container image whose name matches, at any depth. */
    static void image(List<Resource> resources, Kustomization.ImageOverride image, String where) {
        int[] changed = {0};
        for (Resource r : resources) {
            forEachContainer(r.body(), container -> {
                JsonNode value = container.get("image");
                if (value != null && value.isTextual()) {
                    String replaced = ImageReference.override(value.asText(), image);
                    if (replaced != null) {
                        container.put("image", replaced);
                        changed[0]++;
                    }
                }
            });
        }
        if (changed[0] == 0) {
            throw new ManifestException(where + ": images: no container uses image " + image.name());
        }
    }

    /** Points every reference to a generated ConfigMap (envFrom, env, volumes) at its new name. */
    static void renameConfigMapReferences(List<Resource> resources, String namespace, String from, String to) {
        for (Resource r : resources) {
            if (r.namespace().equals(namespace)) {
                renameReferences(r.body(), from, to);
            }
        }
    }

    private static void renameReferences(JsonNode node, String from, String to) {
        if (node.isObject()) {
            node.fields().forEachRemaining(field -> {
                JsonNode value = field.getValue();
                boolean reference =
                        Set.of("configMapRef", "configMapKeyRef", "configMap").contains(field.getKey());
                if (reference && value.isObject() && value.path("name").asText().equals(from)) {
                    ((ObjectNode) value).put("name", to);
                } else {
                    renameReferences(value, from, to);
                }
            });
        } else if (node.isArray()) {
            node.forEach(element -> renameReferences(element, from, to));
        }
    }

    private static void forEachContainer(JsonNode node, Consumer<ObjectNode> action) {
        if (node.isObject()) {
            node.fields().forEachRemaining(field -> {
                boolean containers =
                        field.getKey().equals("containers") || field.getKey().equals("initContainers");
                if (containers && field.getValue().isArray()) {
                    field.getValue().forEach(c -> {
                        if (c.isObject()) {
                            action.accept((ObjectNode) c);
                        }
                    });
                } else {
                    forEachContainer(field.getValue(), action);
                }
            });
        } else if (node.isArray()) {
            node.forEach(element -> forEachContainer(element, action));
        }
    }

    private static ObjectNode metadata(ObjectNode object) {
        return object.withObjectProperty("metadata");
    }
}
