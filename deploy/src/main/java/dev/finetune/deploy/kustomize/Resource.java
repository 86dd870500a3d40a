package dev.finetune.deploy.kustomize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One object of a rendered kustomization: its tree (changed in place by transformers) and the files
 * it came from, the defining file first and then every patch applied to it, for error messages.
 */
public final class Resource {
    private final ObjectNode body;
    private final List<String> sources = new ArrayList<>();
    private final boolean hashSuffix;

    Resource(ObjectNode body, String definedIn, boolean hashSuffix) {
        this.body = body;
        this.sources.add(definedIn);
        this.hashSuffix = hashSuffix;
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

    /** Whether the top-level render appends a content hash to the name (generated ConfigMaps). */
    boolean hashSuffix() {
        return hashSuffix;
    }

    void patchedBy(String patchFile) {
        sources.add(patchFile);
    }

    public List<String> sources() {
        return List.copyOf(sources);
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
