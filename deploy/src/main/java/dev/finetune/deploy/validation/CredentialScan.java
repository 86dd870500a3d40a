package dev.finetune.deploy.validation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.deploy.CredentialNames;
import dev.finetune.deploy.JsonPaths;
import dev.finetune.deploy.render.Resource;
import java.util.List;

/**
 * Credentials never appear in a manifest: a variable or ConfigMap key named like one must not hold a
 * literal value (use {@code valueFrom.secretKeyRef}), and no Secret is defined with data; Secrets are
 * created outside the manifests (deploy/README.md).
 */
final class CredentialScan {
    private CredentialScan() {}

    static void check(Resource resource, List<ManifestProblem> problems) {
        String where = resource.describe();
        if (resource.kind().equals("Secret")
                && (resource.body().has("data") || resource.body().has("stringData"))) {
            problems.add(new ManifestProblem(
                    where, "data", "a Secret with data puts credentials in a manifest; create it outside"));
        }
        if (resource.kind().equals("ConfigMap")) {
            resource.body().path("data").fieldNames().forEachRemaining(key -> {
                if (CredentialNames.isCredential(key)) {
                    problems.add(new ManifestProblem(
                            where, "data." + key, "literal credential in a ConfigMap; use a Secret"));
                }
            });
        }
        scanEnv(resource.body(), "", where, problems);
    }

    private static void scanEnv(JsonNode node, String path, String where, List<ManifestProblem> problems) {
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                scanEnv(node.get(i), path + "[" + i + "]", where, problems);
            }
            return;
        }
        node.fields().forEachRemaining(field -> {
            String at = JsonPaths.child(path, field.getKey());
            if (field.getKey().equals("env") && field.getValue().isArray()) {
                for (JsonNode variable : field.getValue()) {
                    String name = variable.path("name").asText();
                    JsonNode value = variable.path("value");
                    if (CredentialNames.isCredential(name)
                            && value.isValueNode()
                            && !value.asText().isEmpty()) {
                        problems.add(new ManifestProblem(
                                where, at + "[" + name + "].value", "literal credential; use valueFrom.secretKeyRef"));
                    }
                }
            } else {
                scanEnv(field.getValue(), at, where, problems);
            }
        });
    }
}
