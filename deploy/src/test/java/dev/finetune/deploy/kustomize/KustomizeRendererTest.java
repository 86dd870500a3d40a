package dev.finetune.deploy.kustomize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.deploy.ManifestException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The renderer's kustomize semantics on small inputs. Expected values marked "kubectl" were produced by
 * {@code kubectl kustomize} (v1.32, kustomize v5.5.0) on the same inputs.
 */
class KustomizeRendererTest {
    @TempDir
    Path dir;

    private static final String DEPLOYMENT =
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: a}
            spec:
              selector: {matchLabels: {app: a}}
              template:
                metadata: {labels: {app: a}}
                spec:
                  containers:
                    - name: a
                      image: example/a:1
                      env: [{name: A, value: "1"}, {name: B, value: "1"}]
                      ports: [{containerPort: 80, name: http}]
                      resources: {requests: {cpu: 100m}, limits: {memory: 1Gi}}
                  tolerations: [{key: a, operator: Exists}]
            """;

    @Test
    void generatedConfigMapNamesCarryKustomizesContentHash() throws IOException {
        write(
                "kustomization.yaml",
                """
                configMapGenerator:
                  - name: cfg
                    envs: [settings.env]
                  - name: files
                    files: [c.yaml]
                """);
        write("settings.env", "A=1\n# a comment\nB=x<y&\"z\"\n");
        write("c.yaml", "a: <b>\n  \"q\"\n");

        List<String> names = render().stream().map(Resource::name).toList();

        assertThat(names).containsExactly("cfg-5f6fkmggdc", "files-886cc46t94"); // kubectl
    }

    @Test
    void referencesToAGeneratedConfigMapFollowItsNewName() throws IOException {
        write("kustomization.yaml", "resources: [d.yaml]\nconfigMapGenerator: [{name: cfg, envs: [s.env]}]\n");
        write("s.env", "A=1\n");
        write(
                "d.yaml",
                DEPLOYMENT.replace("      env:", "      envFrom: [{configMapRef: {name: cfg}}]\n          env:"));

        Resource deployment = render().get(0);

        assertThat(deployment
                        .at("/spec/template/spec/containers/0/envFrom/0/configMapRef/name")
                        .asText())
                .isEqualTo("cfg-89g4tffbfk"); // kubectl
    }

    @Test
    void strategicMergeMergesNamedListsInKustomizesOrderAndReplacesOthers() throws IOException {
        write("base/kustomization.yaml", "resources: [d.yaml]\n");
        write("base/d.yaml", DEPLOYMENT);
        write("kustomization.yaml", "resources: [base]\npatches: [{path: p.yaml}]\n");
        write(
                "p.yaml",
                """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: a}
                spec:
                  template:
                    spec:
                      containers:
                        - name: a
                          env: [{name: B, value: "2"}, {name: C, value: "3"}]
                          ports: [{containerPort: 81, name: admin}]
                          resources: {limits: {cpu: "1"}}
                        - name: side
                          image: example/side:1
                      tolerations: [{key: b, operator: Exists}]
                """);

        JsonNode spec = render().get(0).at("/spec/template/spec");

        assertThat(names(spec.at("/containers"), "name")).containsExactly("a", "side");
        assertThat(names(spec.at("/containers/0/env"), "name")).containsExactly("B", "C", "A");
        assertThat(spec.at("/containers/0/env/0/value").asText()).isEqualTo("2");
        assertThat(names(spec.at("/containers/0/ports"), "containerPort")).containsExactly("81", "80");
        assertThat(spec.at("/containers/0/resources").toString())
                .isEqualTo("{\"requests\":{\"cpu\":\"100m\"},\"limits\":{\"memory\":\"1Gi\",\"cpu\":\"1\"}}");
        assertThat(names(spec.at("/tolerations"), "key")).containsExactly("b");
    }

    @Test
    void patchWithATargetAppliesToEveryMatchButKeepsTheirNames() throws IOException {
        write(
                "kustomization.yaml",
                """
                resources: [topics.yaml]
                patches: [{path: one-replica.yaml, target: {kind: KafkaTopic}}]
                """);
        write(
                "topics.yaml",
                """
                apiVersion: kafka.strimzi.io/v1beta2
                kind: KafkaTopic
                metadata: {name: a}
                spec: {partitions: 3, replicas: 3, config: {retention.ms: 1000}}
                ---
                apiVersion: kafka.strimzi.io/v1beta2
                kind: KafkaTopic
                metadata: {name: b}
                spec: {partitions: 1, replicas: 3}
                """);
        write(
                "one-replica.yaml",
                """
                apiVersion: kafka.strimzi.io/v1beta2
                kind: KafkaTopic
                metadata: {name: any}
                spec: {replicas: 1, config: {min.insync.replicas: 1}}
                """);

        List<Resource> topics = render();

        assertThat(topics).extracting(Resource::name).containsExactly("a", "b");
        assertThat(topics)
                .allSatisfy(t -> assertThat(t.at("/spec/replicas").asInt()).isEqualTo(1));
        assertThat(topics.get(0).at("/spec/config").toString())
                .isEqualTo("{\"retention.ms\":1000,\"min.insync.replicas\":1}");
    }

    @Test
    void patchReplacesACustomResourcesListsWhole() throws IOException {
        write("kustomization.yaml", "resources: [scaling.yaml]\npatches: [{path: p.yaml}]\n");
        write(
                "scaling.yaml",
                """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: s}
                spec:
                  triggers: [{type: kafka, name: lag, metadata: {topic: jobs, lagThreshold: "1"}}]
                """);
        write(
                "p.yaml",
                """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: s}
                spec:
                  triggers: [{name: lag, metadata: {bootstrapServers: "k:9092"}}]
                """);

        JsonNode triggers = render().get(0).at("/spec/triggers");

        assertThat(triggers.toString()) // kubectl: no merge by name without a schema
                .isEqualTo("[{\"name\":\"lag\",\"metadata\":{\"bootstrapServers\":\"k:9092\"}}]");
    }

    @Test
    void imageOverrideMatchesTheWholeNameOnly() {
        var override = new Kustomization.ImageOverride("example/a", null, "2", null);

        assertThat(ImageReference.override("example/a:1", override)).isEqualTo("example/a:2");
        assertThat(ImageReference.override("example/a@sha256:0f", override)).isEqualTo("example/a:2");
        assertThat(ImageReference.override("example/ab:1", override)).isNull();
        assertThat(ImageReference.override("registry:5000/example/a:1", override))
                .isNull();
    }

    @Test
    void fieldTheRendererDoesNotImplementIsRefusedByName() throws IOException {
        write("kustomization.yaml", "resources: []\npatchesJson6902: []\n");

        assertThatThrownBy(this::render)
                .isInstanceOf(ManifestException.class)
                .hasMessageStartingWith("kustomization.yaml: 'patchesJson6902' at patchesJson6902 is not supported");
    }

    @Test
    void fileOutsideTheKustomizationDirectoryIsRefusedLikeKustomizeDoes() throws IOException {
        write("shared.yaml", DEPLOYMENT);
        write("overlay/kustomization.yaml", "resources: [../shared.yaml]\n");

        assertThatThrownBy(() -> new KustomizeRenderer(dir).render(dir.resolve("overlay")))
                .hasMessageContaining("../shared.yaml is outside overlay");
    }

    @Test
    void patchThatMatchesNothingFails() throws IOException {
        write("kustomization.yaml", "resources: [d.yaml]\npatches: [{path: p.yaml}]\n");
        write("d.yaml", DEPLOYMENT);
        write("p.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec: {replicas: 2}\n");

        assertThatThrownBy(this::render).hasMessage("p.yaml: no resource matches Deployment/b");
    }

    @Test
    void keyGivenTwiceInOneMappingIsAnError() throws IOException {
        write("kustomization.yaml", "resources: [d.yaml]\n");
        write("d.yaml", DEPLOYMENT.replace("metadata: {name: a}", "metadata: {name: a, name: b}"));

        assertThatThrownBy(this::render).hasMessageStartingWith("d.yaml: invalid YAML: Duplicate field 'name'");
    }

    private List<Resource> render() {
        return new KustomizeRenderer(dir).render(dir);
    }

    private void write(String file, String content) throws IOException {
        Files.createDirectories(dir.resolve(file).getParent());
        Files.writeString(dir.resolve(file), content);
    }

    private static List<String> names(JsonNode list, String key) {
        List<String> names = new ArrayList<>();
        list.forEach(element -> names.add(element.path(key).asText()));
        return names;
    }
}
