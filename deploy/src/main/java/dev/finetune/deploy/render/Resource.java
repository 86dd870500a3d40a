package dev.finetune.deploy.render;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * One object of a rendering (Kustomize's output) and the files it came from, the defining file first
 * and then every patch applied to it ({@link Origins}), for error messages.
 */
public final class Resource {
    private final ObjectNode body;
    private final List<String> sources;

    /** @param sources the defining file, then the patches; at least one entry */
    public Resource(ObjectNode body, List<String> sources) {
        if (sources.isEmpty()) {
            throw new IllegalArgumentException("a resource comes from somewhere");
        }
        this.body = body;
        this.sources = List.copyOf(sources);
    }

    public ObjectNode body() {
        return body;
    }

    public String apiVersion() {
        return body.path("apiVersion").asText("");
    }

    /** The API group: "" for the core group ("v1"), "apps" for "apps/v1". */
    public String group() {
        String apiVersion = apiVersion();
        int slash = apiVersion.indexOf('/');
        return slash < 0 ? "" : apiVersion.substring(0, slash);
    }

    public String kind() {
        return body.path("kind").asText("");
    }

    public String name() {
        return body.path("metadata").path("name").asText("");
    }

    /** The namespace, or "" when none is set. */
    public String namespace() {
        return body.path("metadata").path("namespace").asText("");
    }

    public JsonNode at(String jsonPointer) {
        return body.at(jsonPointer);
    }

    /** {@code Kind/name}, with the namespace in front when there is one. */
    public String id() {
        return (namespace().isEmpty() ? "" : namespace() + "/") + kind() + "/" + name();
    }

    public List<String> sources() {
        return sources;
    }

    /** For messages: {@code Deployment/x (from a.yaml, patched by b.yaml)}. */
    public String describe() {
        String from = " (from " + sources.get(0);
        if (sources.size() > 1) {
            from += ", patched by " + String.join(", ", sources.subList(1, sources.size()));
        }
        return id() + from + ")";
    }

    @Override
    public String toString() {
        return describe();
    }
}
