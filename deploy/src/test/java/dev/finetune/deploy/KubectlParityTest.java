package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.deploy.kustomize.Resource;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Java renderer the build relies on produces what {@code kubectl kustomize} produces, object for
 * object and field for field. Runs where kubectl with kustomize v5 is on the PATH (as on our build
 * machines), skipped elsewhere.
 */
class KubectlParityTest {
    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/gpu", "base", "observability"})
    void javaRendererMatchesKubectlKustomize(String kustomization) throws Exception {
        Path kubectl = onPath("kubectl");
        assumeTrue(kubectl != null, "kubectl is not on the PATH");
        // The renderer follows kustomize v5 (kubectl 1.27 and later); another major version may differ.
        String version = run(kubectl, "version", "--client");
        assumeTrue(version.contains("Kustomize Version: v5."), "kubectl's kustomize is not v5: " + version);

        Map<String, JsonNode> expected = byId(YamlDocuments.read(kubectlKustomize(kubectl, kustomization), "kubectl"));
        Map<String, JsonNode> actual = new TreeMap<>();
        for (Resource r : Repo.render(kustomization)) {
            actual.put(r.apiVersion() + " " + r.id(), r.body());
        }

        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
        List<String> differences = new ArrayList<>();
        expected.forEach((id, object) -> diff(object, actual.get(id), id, differences));
        assertThat(differences).isEmpty();
    }

    private static String kubectlKustomize(Path kubectl, String kustomization)
            throws IOException, InterruptedException {
        return run(kubectl, "kustomize", Repo.DEPLOY.resolve(kustomization).toString());
    }

    private static String run(Path kubectl, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(kubectl.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        return output;
    }

    private static Map<String, JsonNode> byId(List<ObjectNode> objects) {
        Map<String, JsonNode> byId = new TreeMap<>();
        for (ObjectNode o : objects) {
            String namespace = o.path("metadata").path("namespace").asText("");
            String id = o.path("apiVersion").asText() + " " + (namespace.isEmpty() ? "" : namespace + "/")
                    + o.path("kind").asText() + "/"
                    + o.path("metadata").path("name").asText();
            byId.put(id, o);
        }
        return byId;
    }

    /** Every path where the two trees differ, with both values. */
    private static void diff(JsonNode expected, JsonNode actual, String path, List<String> out) {
        if (expected.isObject() && actual.isObject()) {
            Iterator<String> names = expected.fieldNames();
            names.forEachRemaining(name -> diff(expected.get(name), actual.path(name), path + "." + name, out));
            actual.fieldNames().forEachRemaining(name -> {
                if (!expected.has(name)) {
                    out.add(path + "." + name + ": only in the Java rendering: " + actual.get(name));
                }
            });
        } else if (expected.isArray() && actual.isArray() && expected.size() == actual.size()) {
            for (int i = 0; i < expected.size(); i++) {
                diff(expected.get(i), actual.get(i), path + "[" + i + "]", out);
            }
        } else if (!expected.equals(actual)) {
            out.add(path + ": kubectl " + expected + ", Java " + actual);
        }
    }

    private static Path onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
