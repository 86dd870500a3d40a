package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.finetune.deploy.render.Resource;
import dev.finetune.deploy.validation.CrossReferences;
import dev.finetune.deploy.validation.ExternalSecrets;
import dev.finetune.deploy.validation.ManifestProblem;
import dev.finetune.deploy.validation.ManifestValidator;
import dev.finetune.deploy.validation.ReleaseRules;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The overlay-only rules and the budget and policy references, each shown failing on a broken object. */
class ReleaseRulesTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static final String DEPLOYMENT =
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: eval-service
              labels: {app.kubernetes.io/name: eval-service, app.kubernetes.io/part-of: finetune-pipeline,
                       app.kubernetes.io/managed-by: kustomize}
            spec:
              selector: {matchLabels: {app.kubernetes.io/name: eval-service}}
              template:
                metadata:
                  labels: {app.kubernetes.io/name: eval-service}
                spec:
                  containers:
                    - {name: eval-service, image: "registry.example:5000/finetune/eval-service:IMAGE_TAG"}
            """;

    @Test
    void aReleaseOverlayPasses() {
        assertThat(ReleaseRules.check(List.of(resource(DEPLOYMENT.replace("IMAGE_TAG", "0.1.0")))))
                .isEmpty();
    }

    @Test
    void snapshotLatestAndUntaggedImagesAreRefusedNamingTheContainer() {
        assertThat(messages(DEPLOYMENT.replace("IMAGE_TAG", "0.1.0-SNAPSHOT")))
                .containsExactly("spec.template.spec.containers[eval-service].image: image"
                        + " registry.example:5000/finetune/eval-service:0.1.0-SNAPSHOT is a SNAPSHOT build:"
                        + " an overlay sets a release tag");
        assertThat(messages(DEPLOYMENT.replace("IMAGE_TAG", "latest")))
                .singleElement()
                .asString()
                .endsWith("has no release tag");
        assertThat(messages(DEPLOYMENT.replace(":IMAGE_TAG", "")))
                .singleElement()
                .asString()
                .endsWith("registry.example:5000/finetune/eval-service has no release tag");
    }

    @Test
    void missingRecommendedLabelsAreNamed() {
        String unlabelled = DEPLOYMENT
                .replace("IMAGE_TAG", "0.1.0")
                .replace(" app.kubernetes.io/managed-by: kustomize", " team: ml")
                .replace("      labels: {app.kubernetes.io/name: eval-service}\n", "      labels: {tier: api}\n");

        assertThat(messages(unlabelled))
                .containsExactly(
                        "metadata.labels: has no app.kubernetes.io/managed-by label",
                        "spec.template.metadata.labels: has no app.kubernetes.io/name label");
    }

    @Test
    void aBudgetMustSelectPodsAndLeaveADrainPossible() {
        String budget =
                """
                apiVersion: policy/v1
                kind: PodDisruptionBudget
                metadata: {name: eval-service}
                spec:
                  SPEC
                  selector: {matchLabels: {app.kubernetes.io/name: SELECTED}}
                """;

        assertThat(references(budget.replace("SPEC", "maxUnavailable: 1").replace("SELECTED", "eval-service")))
                .isEmpty();
        assertThat(references(budget.replace("SPEC", "maxUnavailable: 1").replace("SELECTED", "eval")))
                .containsExactly("spec.selector: selects no pods of any Deployment");
        assertThat(references(budget.replace("SPEC", "minAvailable: 1").replace("SELECTED", "eval-service")))
                .singleElement()
                .asString()
                .startsWith("spec.minAvailable: use maxUnavailable");
        assertThat(references(budget.replace("SPEC", "maxUnavailable: 0").replace("SELECTED", "eval-service")))
                .singleElement()
                .asString()
                .startsWith("spec.maxUnavailable: must allow at least one pod to be evicted");
    }

    @Test
    void aNetworkPolicyMustSelectPods() {
        String policy =
                """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: pipeline-services}
                spec:
                  podSelector:
                    matchExpressions: [{key: app.kubernetes.io/name, operator: In, values: [NAMES]}]
                  policyTypes: [Ingress]
                  ingress: [{ports: [{port: http, protocol: TCP}]}]
                """;

        assertThat(references(policy.replace("NAMES", "dataset-service, eval-service")))
                .isEmpty();
        assertThat(references(policy.replace("NAMES", "evaluation-service")))
                .containsExactly("spec.podSelector: selects no pods of any Deployment");
    }

    private static List<String> messages(String yaml) {
        return ReleaseRules.check(List.of(resource(yaml))).stream()
                .map(p -> p.path() + ": " + p.message())
                .toList();
    }

    /** The cross-reference problems of {@code yaml} next to the eval-service Deployment. */
    private static List<String> references(String yaml) {
        ManifestValidator.Validation validation = new ManifestValidator()
                .validate(List.of(resource(DEPLOYMENT.replace("IMAGE_TAG", "0.1.0")), resource(yaml)));
        assertThat(validation.typed()).as("both objects read as their kinds").hasSize(2);
        return CrossReferences.check(validation, new ExternalSecrets(Map.of())).stream()
                .map((ManifestProblem p) -> p.path() + ": " + p.message())
                .toList();
    }

    private static Resource resource(String yaml) {
        try {
            return new Resource((ObjectNode) YAML.readTree(yaml), List.of("test.yaml"));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
