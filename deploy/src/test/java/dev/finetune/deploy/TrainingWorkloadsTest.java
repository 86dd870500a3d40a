package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.finetune.deploy.render.Resource;
import dev.finetune.deploy.validation.ManifestValidator;
import dev.finetune.deploy.validation.ReleaseRules;
import dev.finetune.deploy.validation.TrainingWorkloads;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The build refuses a training job in a pod that a scale-in could delete, and checks the workers'
 * ScaledJob pods as it checks Deployments' (labels, release tags); each shown failing on a broken object.
 */
class TrainingWorkloadsTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static final String DEPLOYMENT =
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: training-service, labels: {app.kubernetes.io/name: training-service}}
            spec:
              selector: {matchLabels: {app.kubernetes.io/name: training-service}}
              template:
                metadata: {labels: {app.kubernetes.io/name: training-service}}
                spec:
                  containers:
                    - name: training-service
                      image: registry.example:5000/finetune/training-service:0.1.0
                      env: [ENV]
            """;

    private static final String SCALED_JOB =
            """
            apiVersion: keda.sh/v1alpha1
            kind: ScaledJob
            metadata:
              name: training-workers
              labels: {app.kubernetes.io/name: training-worker, app.kubernetes.io/part-of: finetune-pipeline,
                       app.kubernetes.io/managed-by: kustomize}
            spec:
              jobTargetRef:
                backoffLimit: 3
                template:
                  metadata: {labels: {app.kubernetes.io/name: training-worker}}
                  spec:
                    restartPolicy: RESTART
                    containers:
                      - name: training-worker
                        image: finetune/training-service:TAG
                        env:
                          - {name: PIPELINE_TRAINING_ROLE, value: worker}
                          - {name: PIPELINE_TRAINING_WORKER_ONE_JOB, value: "@ONEJOB@"}
              triggers:
                - type: kafka
                  metadata: {bootstrapServers: "kafka:9092", consumerGroup: training-workers, topic: training.jobs}
            """;

    @Test
    void onlyTheApiRoleMayRunInADeployment() {
        assertThat(workloadProblems(DEPLOYMENT.replace("ENV", "{name: PIPELINE_TRAINING_ROLE, value: api}")))
                .isEmpty();
        assertThat(workloadProblems(DEPLOYMENT.replace("ENV", "{name: PIPELINE_TRAINING_ROLE, value: worker}")))
                .singleElement()
                .asString()
                .startsWith("spec.template.spec.containers[training-service].env[PIPELINE_TRAINING_ROLE]: trains (role"
                        + " worker) in a Deployment: a scale-in or rollout deletes a pod that is running a job");
        assertThat(workloadProblems(DEPLOYMENT.replace("ENV", "")))
                .as("no role is role all, which trains")
                .singleElement()
                .asString()
                .contains("trains (role all, by default) in a Deployment");
    }

    @Test
    void aWorkersJobPodRunsOneJobAndIsReplacedNotRestarted() {
        assertThat(workloadProblems(scaledJob("Never", "true", "0.1.0"))).isEmpty();
        assertThat(workloadProblems(scaledJob("Never", "false", "0.1.0")))
                .containsExactly("spec.jobTargetRef.template.spec.containers[training-worker]"
                        + ".env[PIPELINE_TRAINING_WORKER_ONE_JOB]: must be \"true\": a worker that does not exit"
                        + " after its job never lets its Job complete");
        assertThat(workloadProblems(scaledJob("OnFailure", "true", "0.1.0")))
                .containsExactly("spec.jobTargetRef.template.spec.restartPolicy: a training worker's Job pod is"
                        + " replaced, not restarted in place: Never, is OnFailure");
    }

    @Test
    void aScaledJobPodNeedsItsNameLabelAndAReleaseTag() {
        assertThat(ReleaseRules.check(List.of(resource(scaledJob("Never", "true", "0.1.0")))))
                .isEmpty();
        assertThat(ReleaseRules.check(List.of(resource(scaledJob("Never", "true", "0.1.0-SNAPSHOT")))))
                .singleElement()
                .satisfies(p -> {
                    assertThat(p.path()).isEqualTo("spec.jobTargetRef.template.spec.containers[training-worker].image");
                    assertThat(p.message()).contains("is a SNAPSHOT build");
                });
        String unlabelled = scaledJob("Never", "true", "0.1.0")
                .replace("metadata: {labels: {app.kubernetes.io/name: training-worker}}", "metadata: {labels: {}}");
        assertThat(ReleaseRules.check(List.of(resource(unlabelled))))
                .singleElement()
                .satisfies(p -> assertThat(p.path()).isEqualTo("spec.jobTargetRef.template.metadata.labels"));
    }

    private static String scaledJob(String restartPolicy, String oneJob, String tag) {
        return SCALED_JOB
                .replace("RESTART", restartPolicy)
                .replace("@ONEJOB@", oneJob)
                .replace("TAG", tag);
    }

    private static List<String> workloadProblems(String yaml) {
        ManifestValidator.Validation validation = new ManifestValidator().validate(List.of(resource(yaml)));
        assertThat(validation.typed())
                .as("the object reads as its kind: %s", validation.problems())
                .hasSize(1);
        return TrainingWorkloads.check(validation).stream()
                .map(p -> p.path() + ": " + p.message())
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
