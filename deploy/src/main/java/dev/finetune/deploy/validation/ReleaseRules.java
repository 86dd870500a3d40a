package dev.finetune.deploy.validation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.deploy.render.Resource;
import java.util.ArrayList;
import java.util.List;

/**
 * What a cluster admin checks in an overlay that is about to be applied, beyond the schemas: every
 * object carries the recommended labels that say what it belongs to and what manages it (so {@code
 * kubectl get all -l app.kubernetes.io/part-of=finetune-pipeline} finds all of it, and nothing else
 * claims it), every workload and its pods say which component they are, and every container image
 * has a release tag: a SNAPSHOT, {@code latest} or an untagged image changes under a running
 * Deployment without any change to the manifests. The base is not an overlay: it keeps the
 * development version, and overlays set the tags.
 */
public final class ReleaseRules {
    /** Labels every object of an overlay carries. */
    static final List<String> OBJECT_LABELS = List.of("app.kubernetes.io/part-of", "app.kubernetes.io/managed-by");

    /** The label a workload and its pod template carry, naming the component. */
    static final String NAME_LABEL = "app.kubernetes.io/name";

    private ReleaseRules() {}

    public static List<ManifestProblem> check(List<Resource> resources) {
        List<ManifestProblem> problems = new ArrayList<>();
        for (Resource resource : resources) {
            String where = resource.describe();
            JsonNode labels = resource.at("/metadata/labels");
            for (String label : OBJECT_LABELS) {
                if (labels.path(label).asText("").isEmpty()) {
                    problems.add(new ManifestProblem(where, "metadata.labels", "has no " + label + " label"));
                }
            }
            // A Deployment's pod template, or a (KEDA Scaled)Job's.
            for (String at : List.of("spec.template", "spec.jobTargetRef.template")) {
                JsonNode pod = resource.at("/" + at.replace('.', '/'));
                if (pod.isMissingNode() || !pod.has("spec")) {
                    continue;
                }
                if (labels.path(NAME_LABEL).asText("").isEmpty()) {
                    problems.add(new ManifestProblem(where, "metadata.labels", "has no " + NAME_LABEL + " label"));
                }
                if (pod.at("/metadata/labels").path(NAME_LABEL).asText("").isEmpty()) {
                    problems.add(
                            new ManifestProblem(where, at + ".metadata.labels", "has no " + NAME_LABEL + " label"));
                }
                images(pod.path("spec"), at + ".spec", "containers", where, problems);
                images(pod.path("spec"), at + ".spec", "initContainers", where, problems);
            }
        }
        return problems;
    }

    private static void images(
            JsonNode podSpec, String specPath, String field, String where, List<ManifestProblem> problems) {
        for (JsonNode container : podSpec.path(field)) {
            String image = container.path("image").asText("");
            String path = specPath + "." + field + "[" + container.path("name").asText() + "].image";
            String tag = tag(image);
            if (tag.isEmpty() || tag.equals("latest")) {
                problems.add(new ManifestProblem(where, path, "image " + image + " has no release tag"));
            } else if (tag.contains("SNAPSHOT")) {
                problems.add(new ManifestProblem(
                        where, path, "image " + image + " is a SNAPSHOT build: an overlay sets a release tag"));
            }
        }
    }

    /** The tag of {@code registry:port/name:tag} (empty if none); a digest counts as a tag. */
    static String tag(String image) {
        int digest = image.indexOf('@');
        if (digest >= 0) {
            return image.substring(digest + 1);
        }
        int colon = image.lastIndexOf(':');
        return colon > image.lastIndexOf('/') ? image.substring(colon + 1) : "";
    }
}
