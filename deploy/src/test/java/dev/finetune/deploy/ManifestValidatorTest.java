package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each mistake in a manifest is reported with the file it is in and the path of the field. The
 * fixture is valid as it stands (first test), so each failure comes from the one change a test makes.
 */
class ManifestValidatorTest {
    @TempDir
    Path tempDir;

    Fixture fixture;

    @BeforeEach
    void copyFixture() {
        fixture = new Fixture(tempDir);
    }

    @Test
    void validFixtureHasNoProblems() {
        assertThat(fixture.problems()).isEmpty();
    }

    @Test
    void toolRendersTheFixtureAsItsHandWrittenRenderingWithNoProblems() {
        String rendered = Repo.tool().build(fixture.dir);

        assertThat(byId(YamlDocuments.read(rendered, "tool")))
                .isEqualTo(byId(YamlDocuments.read(fixture.handWrittenRendering(), "by hand")));
        assertThat(fixture.problemsRenderedByTool(fixture.dir)).isEmpty();
    }

    @Test
    void misspeltContainersIsReportedWithFileAndPath() {
        fixture.replace("deployment.yaml", "      containers:", "      contianers:");

        assertThat(fixture.problems())
                .contains("Deployment/demo (from deployment.yaml): spec.template.spec.contianers: unknown field");
    }

    @Test
    void misspeltProbePortIsReportedWithFileAndPath() {
        fixture.replace("deployment.yaml", "              port: http", "              prot: http");

        assertThat(fixture.problems())
                .contains("Deployment/demo (from deployment.yaml): "
                        + "spec.template.spec.containers[demo].livenessProbe.httpGet.prot: unknown field");
    }

    @Test
    void wrongTypeIsReportedWithFileAndPath() {
        fixture.replace("deployment.yaml", "containerPort: 8080", "containerPort: http-alt");

        assertThat(fixture.problems()).anySatisfy(problem -> assertThat(problem)
                .startsWith("Deployment/demo (from deployment.yaml): "
                        + "spec.template.spec.containers[0].ports[0].containerPort: wrong type:")
                .contains("Integer", "http-alt"));
    }

    @Test
    void literalCredentialIsReportedWithFileAndPath() {
        fixture.replace(
                "deployment.yaml",
                """
                              valueFrom:
                                secretKeyRef:
                                  name: demo-credentials
                                  key: password
                """,
                """
                              value: hunter2
                """);

        assertThat(fixture.problems())
                .contains("Deployment/demo (from deployment.yaml): "
                        + "spec.template.spec.containers[0].env[DEMO_PASSWORD].value: "
                        + "literal credential; use valueFrom.secretKeyRef");
    }

    @Test
    void secretWithDataIsRefused() {
        fixture.append(
                "deployment.yaml",
                """
                ---
                apiVersion: v1
                kind: Secret
                metadata:
                  name: demo-credentials
                stringData:
                  password: hunter2
                """);

        assertThat(fixture.problems()).anySatisfy(problem -> assertThat(problem)
                .startsWith("Secret/demo-credentials (from deployment.yaml): data: a Secret with data"));
    }

    @Test
    void typoInAPatchNamesThePatchFile() {
        Path overlay = tempDir.resolve("overlay");
        Fixture.write(
                overlay.resolve("kustomization.yaml"),
                """
                resources: [../fixture]
                patches:
                  - path: resources.yaml
                """);
        Fixture.write(
                overlay.resolve("resources.yaml"),
                """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: demo
                spec:
                  template:
                    spec:
                      contianers:
                        - name: demo
                """);

        assertThat(fixture.problemsRenderedByTool(overlay))
                .contains("Deployment/demo (from fixture/deployment.yaml, patched by overlay/resources.yaml): "
                        + "spec.template.spec.contianers: unknown field");
    }

    @Test
    void keyGivenTwiceInOneMappingIsAnError() {
        fixture.replace("deployment.yaml", "  name: demo\nspec:", "  name: demo\n  name: demo-api\nspec:");

        assertThatThrownBy(fixture::problems)
                .isInstanceOf(ManifestException.class)
                .hasMessageStartingWith("deployment.yaml: invalid YAML: Duplicate field 'name'");
    }

    @Test
    void objectOfAnUnknownTypeIsRefused() {
        fixture.append(
                "deployment.yaml",
                """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata:
                  name: demo
                """);

        assertThat(fixture.problems())
                .anySatisfy(
                        problem -> assertThat(problem)
                                .startsWith(
                                        "HTTPRoute/demo (from deployment.yaml): no schema for apiVersion gateway.networking.k8s.io/v1"));
    }

    @Test
    void misspeltKafkaTopicAndScaledObjectFieldsAreReported() {
        fixture.replace("topic.yaml", "partitions: 3", "partition: 3");
        fixture.replace("autoscaling.yaml", "maxReplicaCount: 3", "maxReplicas: 3");

        assertThat(fixture.problems())
                .contains(
                        "KafkaTopic/demo.jobs (from topic.yaml): spec.partition: unknown field",
                        "ScaledObject/demo (from autoscaling.yaml): spec.maxReplicas: unknown field");
    }

    @Test
    void unknownTopicSettingAndScalerParameterAreReported() {
        fixture.replace("topic.yaml", "retention.ms:", "retention.msec:");
        fixture.replace("autoscaling.yaml", "lagThreshold:", "lagTreshold:");

        assertThat(fixture.problems())
                .contains(
                        "KafkaTopic/demo.jobs (from topic.yaml): spec.config.retention.msec: "
                                + "not a Kafka topic configuration",
                        "ScaledObject/demo (from autoscaling.yaml): spec.triggers[kafka].metadata.lagTreshold: "
                                + "not a kafka scaler parameter");
    }

    @Test
    void containerWithoutImageOrMemoryLimitIsReported() {
        fixture.replace("deployment.yaml", "          image: example/demo:1.0\n", "");
        fixture.replace("deployment.yaml", "              memory: 256Mi\n", "");

        List<String> problems = fixture.problems();

        assertThat(problems)
                .contains(
                        "Deployment/demo (from deployment.yaml): spec.template.spec.containers[demo].image: required",
                        "Deployment/demo (from deployment.yaml): "
                                + "spec.template.spec.containers[demo].resources.limits.memory: required");
    }

    @Test
    void requestAboveItsLimitIsReported() {
        fixture.replace("deployment.yaml", "cpu: 100m", "cpu: \"2\"");

        assertThat(fixture.problems())
                .contains("Deployment/demo (from deployment.yaml): "
                        + "spec.template.spec.containers[demo].resources.requests.cpu: exceeds the limit 1");
    }

    @Test
    void probeOnAPortTheContainerLacksIsReported() {
        fixture.replace(
                "deployment.yaml", "path: /ready\n              port: http", "path: /ready\n              port: 9090");

        assertThat(fixture.problems())
                .contains("Deployment/demo (from deployment.yaml): "
                        + "spec.template.spec.containers[demo].readinessProbe.httpGet.port: "
                        + "port 9090 is not a port of this container [http]");
    }

    @Test
    void serviceSelectingNoPodsIsReported() {
        fixture.replace("deployment.yaml", "  selector:\n    app: demo", "  selector:\n    app: demo-api");

        assertThat(fixture.problems())
                .contains("Service/demo (from deployment.yaml): spec.selector: "
                        + "selects no pods of any Deployment: {app=demo-api}");
    }

    @Test
    void secretKeyTheReadmeDoesNotCreateIsReported() {
        fixture.replace("deployment.yaml", "key: password", "key: passwd");

        assertThat(fixture.problems()).anySatisfy(problem -> assertThat(problem)
                .startsWith("Deployment/demo (from deployment.yaml): "
                        + "spec.template.spec.containers[demo].env[DEMO_PASSWORD].valueFrom: "
                        + "Secret demo-credentials with key passwd is neither in the manifests nor documented"));
    }

    @Test
    void missingConfigMapIsReported() {
        fixture.replace("deployment.yaml", "name: demo-settings", "name: demo-setting");

        assertThat(fixture.problems())
                .contains("Deployment/demo (from deployment.yaml): spec.template.spec.containers[demo].envFrom: "
                        + "no ConfigMap demo-setting");
    }

    @Test
    void scaledDeploymentThatSetsReplicasIsReported() {
        fixture.replace("deployment.yaml", "spec:\n  selector:", "spec:\n  replicas: 2\n  selector:");

        assertThat(fixture.problems()).anySatisfy(problem -> assertThat(problem)
                .startsWith("ScaledObject/demo (from autoscaling.yaml): spec.scaleTargetRef: "
                        + "Deployment demo sets spec.replicas"));
    }

    @Test
    void misspeltServiceMonitorAndPrometheusRuleFieldsAreReported() {
        fixture.replace("monitoring.yaml", "      path: /metrics", "      metricsPath: /metrics");
        fixture.replace("monitoring.yaml", "          for: 5m", "          pending: 5m");

        assertThat(fixture.problems())
                .contains(
                        "ServiceMonitor/demo (from monitoring.yaml): spec.endpoints[0].metricsPath: unknown field",
                        "PrometheusRule/demo (from monitoring.yaml): spec.groups[0].rules[0].pending: unknown field");
    }

    @Test
    void serviceMonitorPortTheServicesLackIsReported() {
        fixture.replace("monitoring.yaml", "    - port: http", "    - port: metrics");

        assertThat(fixture.problems())
                .contains("ServiceMonitor/demo (from monitoring.yaml): spec.endpoints[metrics].port: "
                        + "Service demo has no port named metrics");
    }

    @Test
    void serviceMonitorSelectingNoServiceIsReported() {
        fixture.replace("monitoring.yaml", "values: [demo]", "values: [demo-api]");

        assertThat(fixture.problems())
                .contains("ServiceMonitor/demo (from monitoring.yaml): spec.selector: selects no Service");
    }

    @Test
    void alertWithoutSeverityOrSummaryOrWithABadDurationIsReported() {
        fixture.replace("monitoring.yaml", "            severity: critical\n", "            team: ml\n");
        fixture.replace("monitoring.yaml", "            summary: Demo is down\n", "");
        fixture.replace("monitoring.yaml", "for: 5m", "for: 5 minutes");

        assertThat(fixture.problems())
                .contains(
                        "PrometheusRule/demo (from monitoring.yaml): spec.groups[demo].rules[DemoDown].labels.severity: "
                                + "required, one of [critical, info, warning] (alert routing reads it)",
                        "PrometheusRule/demo (from monitoring.yaml): "
                                + "spec.groups[demo].rules[DemoDown].annotations.summary: required",
                        "PrometheusRule/demo (from monitoring.yaml): spec.groups[demo].rules[DemoDown].for: "
                                + "not a Prometheus duration (e.g. 5m, 1h30m): 5 minutes");
    }

    @Test
    void alertExpressionWithUnbalancedBracketsIsReported() {
        fixture.replace("monitoring.yaml", "expr: up{job=\"demo\"} == 0", "expr: sum(up{job=\"demo\"} == 0");

        assertThat(fixture.problems())
                .contains("PrometheusRule/demo (from monitoring.yaml): spec.groups[demo].rules[DemoDown].expr: "
                        + "unbalanced brackets or quotes: sum(up{job=\"demo\"} == 0");
    }

    private static Map<String, ObjectNode> byId(List<ObjectNode> objects) {
        Map<String, ObjectNode> byId = new TreeMap<>();
        objects.forEach(o -> byId.put(
                o.path("apiVersion").asText() + " " + o.path("kind").asText() + "/"
                        + o.path("metadata").path("name").asText(),
                o));
        return byId;
    }
}
