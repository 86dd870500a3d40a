package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.deploy.validation.LabelSelectors;
import dev.finetune.deploy.validation.ManifestProblem;
import dev.finetune.deploy.validation.ManifestValidator;
import dev.finetune.deploy.validation.ReleaseRules;
import dev.finetune.deploy.validation.ScaledJob;
import dev.finetune.deploy.validation.TriggerAuthentication;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.JobSpec;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.strimzi.api.kafka.model.kafka.Kafka;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every kustomization renders and validates; each overlay says what it promises. */
class OverlaysTest {
    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/gpu", "base", "observability"})
    void everyObjectPassesSchemaAndReferenceChecks(String kustomization) {
        List<ManifestProblem> problems = Repo.problems(Repo.render(kustomization), Repo.DEPLOY.resolve("README.md"));

        assertThat(problems).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/gpu"})
    void overlaysCarryTheRecommendedLabelsAndReleaseImageTags(String overlay) {
        assertThat(ReleaseRules.check(Repo.render(overlay))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/gpu"})
    void apiServicesHaveDisruptionBudgetsAndEveryServiceANetworkPolicy(String overlay) {
        ManifestValidator.Validation validation = Repo.validate(overlay);

        assertThat(validation.all(PodDisruptionBudget.class))
                .extracting(b -> b.getMetadata().getName())
                .containsExactlyInAnyOrder("dataset-service", "training-service", "eval-service", "registry-service");
        NetworkPolicy policy = validation.all(NetworkPolicy.class).get(0);
        assertThat(LabelSelectors.matches(
                        policy.getSpec().getPodSelector(),
                        workers(validation).getTemplate().getMetadata().getLabels()))
                .as("the training workers' Job pods")
                .isTrue();
        for (String service : Repo.SERVICES) {
            assertThat(LabelSelectors.matches(
                            policy.getSpec().getPodSelector(),
                            Repo.deployment(validation, service)
                                    .getSpec()
                                    .getTemplate()
                                    .getMetadata()
                                    .getLabels()))
                    .as(service)
                    .isTrue();
        }
        assertThat(policy.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
        assertThat(policy.getSpec().getIngress()).singleElement().satisfies(rule -> assertThat(rule.getPorts())
                .extracting(p -> p.getPort().getStrVal())
                .containsExactly("http"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/gpu"})
    void everyPodRunsNonRootWithoutPrivilegesOnAReadOnlyRootFilesystem(String overlay) {
        ManifestValidator.Validation validation = Repo.validate(overlay);
        Map<String, PodSpec> pods = new TreeMap<>();
        validation
                .all(Deployment.class)
                .forEach(d -> pods.put(
                        d.getMetadata().getName(), d.getSpec().getTemplate().getSpec()));
        validation
                .all(ScaledJob.class)
                .forEach(j -> pods.put(
                        j.metadata().getName(),
                        j.spec().jobTargetRef().getTemplate().getSpec()));
        assertThat(pods).containsKey("training-workers");
        for (Map.Entry<String, PodSpec> named : pods.entrySet()) {
            String name = named.getKey();
            PodSpec pod = named.getValue();
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(name).isTrue();
            assertThat(pod.getSecurityContext().getSeccompProfile().getType())
                    .as(name)
                    .isEqualTo("RuntimeDefault");
            assertThat(pod.getAutomountServiceAccountToken()).as(name).isFalse();
            for (Container c : pod.getContainers()) {
                String container = name + "/" + c.getName();
                assertThat(c.getSecurityContext()).as(container).isNotNull();
                assertThat(c.getSecurityContext().getAllowPrivilegeEscalation())
                        .as(container)
                        .isFalse();
                assertThat(c.getSecurityContext().getReadOnlyRootFilesystem())
                        .as(container)
                        .isTrue();
                assertThat(c.getSecurityContext().getCapabilities().getDrop())
                        .as(container)
                        .containsExactly("ALL");
            }
        }
    }

    @Test
    void devOverlayRunsOnePodPerServiceInFinetuneDev() {
        ManifestValidator.Validation dev = Repo.validate("overlays/dev");

        assertThat(dev.typed().keySet())
                .allSatisfy(r -> assertThat(r.namespace()).isEqualTo("finetune-dev"));
        assertThat(dev.all(Deployment.class))
                .allSatisfy(d -> assertThat(d.getSpec().getReplicas())
                        .as(d.getMetadata().getName())
                        .isIn(1, null));
        assertThat(dev.all(ScaledJob.class).get(0).spec().maxReplicaCount()).isLessThanOrEqualTo(2);
        for (String service : Repo.SERVICES) {
            assertThat(Repo.container(Repo.deployment(dev, service)).getImage())
                    .isEqualTo("finetune/" + service + ":dev");
        }
        assertThat(dev.all(Kafka.class))
                .extracting(k -> k.getMetadata().getName())
                .containsExactly("pipeline");
        assertThat(dev.all(Deployment.class))
                .extracting(d -> d.getMetadata().getName())
                .contains("minio", "jaeger", "otel-collector");
    }

    @Test
    void devIngressServesTheConsoleWhichReachesOnlyTheServicesAndKeepsItsCookieOffHttpsThere() {
        ManifestValidator.Validation dev = Repo.validate("overlays/dev");
        Ingress ingress = dev.all(Ingress.class).stream()
                .filter(i -> i.getMetadata().getName().equals("console"))
                .findFirst()
                .orElseThrow();
        Deployment console = Repo.deployment(dev, "console");

        var backend = ingress.getSpec()
                .getRules()
                .get(0)
                .getHttp()
                .getPaths()
                .get(0)
                .getBackend()
                .getService();
        assertThat(backend.getName()).isEqualTo("console");
        assertThat(backend.getPort().getName()).isEqualTo("http");
        assertThat(Repo.container(console).getImage()).isEqualTo("finetune/console:dev");
        assertThat(Repo.env(Repo.container(console), "CONSOLE_COOKIE_SECURE").getValue())
                .as("the dev ingress is plain HTTP")
                .isEqualTo("false");
        assertThat(Repo.env(Repo.container(console), "CONSOLE_TRAINING_URL").getValue())
                .isEqualTo("http://training-service:8082");
        NetworkPolicy policy = dev.all(NetworkPolicy.class).stream()
                .filter(p -> p.getMetadata().getName().equals("web-console"))
                .findFirst()
                .orElseThrow();
        assertThat(LabelSelectors.matches(
                        policy.getSpec().getPodSelector(),
                        console.getSpec().getTemplate().getMetadata().getLabels()))
                .isTrue();
        for (String service : Repo.SERVICES) {
            assertThat(LabelSelectors.matches(
                            policy.getSpec().getEgress().get(1).getTo().get(0).getPodSelector(),
                            Repo.deployment(dev, service)
                                    .getSpec()
                                    .getTemplate()
                                    .getMetadata()
                                    .getLabels()))
                    .as(service)
                    .isTrue();
        }
    }

    @Test
    void gpuOverlayPutsTrainingWorkersAloneOnGpuNodes() {
        ManifestValidator.Validation gpu = Repo.validate("overlays/gpu");
        PodSpec pod = workers(gpu).getTemplate().getSpec();
        Container worker = pod.getContainers().get(0);

        assertThat(worker.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"));
        assertThat(bytes(worker.getResources().getLimits().get("memory"))).isGreaterThanOrEqualTo(gib(32));
        assertThat(pod.getNodeSelector()).containsEntry("nvidia.com/gpu.present", "true");
        assertThat(pod.getTolerations()).anySatisfy(t -> {
            assertThat(t.getKey()).isEqualTo("nvidia.com/gpu");
            assertThat(t.getEffect()).isEqualTo("NoSchedule");
        });
        assertThat(worker.getImage()).isEqualTo("finetune/training-service:0.1.0-cuda");
        assertThat(gpu.all(Deployment.class))
                .as("the training API and every other Deployment: no GPU")
                .allSatisfy(d ->
                        assertThat(Repo.container(d).getResources().getLimits()).doesNotContainKey("nvidia.com/gpu"));
        assertThat(Repo.env(Repo.container(Repo.deployment(gpu, "training-service")), "PIPELINE_TRAINING_MEMORY_LIMIT")
                        .getValue())
                .as("the api validates jobs against the GPU workers' memory limit")
                .isEqualTo(worker.getResources().getLimits().get("memory").toString());
    }

    @Test
    void gpuOverlayNamesItsOwnObjectStore() {
        ManifestValidator.Validation gpu = Repo.validate("overlays/gpu");
        var settings = gpu.all(io.fabric8.kubernetes.api.model.ConfigMap.class).stream()
                .filter(c -> c.getMetadata().getName().startsWith("pipeline-settings"))
                .findFirst()
                .orElseThrow()
                .getData();

        assertThat(settings.get("PIPELINE_OBJECT_STORE_ENDPOINT"))
                .as("overlays/gpu/object-store.env, not the dev stack's MinIO")
                .isNotEqualTo("http://minio:9000")
                .startsWith("https://");
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/gpu"})
    void trainingWorkersHaveScratchDisksAndTimeToStop(String overlay) {
        PodSpec pod = workers(Repo.validate(overlay)).getTemplate().getSpec();
        Container worker = pod.getContainers().get(0);

        assertThat(pod.getTerminationGracePeriodSeconds())
                .as("pipeline.training.preemption-grace (90 s) and the rest of the shutdown")
                .isBetween(100L, 600L);
        assertThat(Repo.env(worker, "PIPELINE_TRAINING_ROLE").getValue()).isEqualTo("worker");
        assertThat(Repo.env(worker, "PIPELINE_TRAINING_WORKER_ONE_JOB").getValue())
                .isEqualTo("true");
        for (String directory : List.of("PIPELINE_TRAINING_WORK_DIR", "DJL_CACHE_DIR")) {
            String path = Repo.env(worker, directory).getValue();
            String volume = worker.getVolumeMounts().stream()
                    .filter(m -> m.getMountPath().equals(path))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(directory + "=" + path + " is not a mount"))
                    .getName();
            assertThat(pod.getVolumes())
                    .filteredOn(v -> v.getName().equals(volume))
                    .singleElement()
                    .extracting(Volume::getEmptyDir)
                    .isNotNull();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/gpu"})
    void pipelineServicesRunLockedDownWithCredentialsFromSecrets(String overlay) {
        ManifestValidator.Validation validation = Repo.validate(overlay);
        for (String service : Repo.SERVICES) {
            Deployment deployment = Repo.deployment(validation, service);
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            Container c = Repo.container(deployment);

            assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(service).isTrue();
            assertThat(pod.getAutomountServiceAccountToken()).as(service).isFalse();
            assertThat(c.getSecurityContext().getReadOnlyRootFilesystem())
                    .as(service)
                    .isTrue();
            assertThat(c.getSecurityContext().getAllowPrivilegeEscalation())
                    .as(service)
                    .isFalse();
            assertThat(c.getVolumeMounts()).as(service).anySatisfy(m -> assertThat(m.getMountPath())
                    .isEqualTo("/tmp"));
            assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/q/health/live");
            assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
            assertSecret(c, "PIPELINE_SECURITY_API_KEYS", "pipeline-api-keys");
            assertSecret(c, "PIPELINE_OBJECT_STORE_ACCESS_KEY", "pipeline-object-store");
            assertSecret(c, "PIPELINE_OBJECT_STORE_SECRET_KEY", "pipeline-object-store");
            assertSecret(c, "KAFKA_SASL_JAAS_CONFIG", "pipeline-kafka");
        }
        Container worker =
                workers(validation).getTemplate().getSpec().getContainers().get(0);
        assertSecret(worker, "KAFKA_SASL_JAAS_CONFIG", "pipeline-kafka");
        assertThat(validation.all(TriggerAuthentication.class)).singleElement().satisfies(auth -> assertThat(
                        auth.spec().secretTargetRef())
                .as("KEDA reads the lag with the same Secret")
                .allSatisfy(ref -> assertThat(ref.name()).isEqualTo("pipeline-kafka")));
    }

    /** The Job template of the training workers' ScaledJob. */
    private static JobSpec workers(ManifestValidator.Validation validation) {
        return validation.all(ScaledJob.class).stream()
                .filter(j -> j.metadata().getName().equals("training-workers"))
                .findFirst()
                .orElseThrow()
                .spec()
                .jobTargetRef();
    }

    private static void assertSecret(Container c, String variable, String secret) {
        assertThat(Repo.env(c, variable).getValueFrom().getSecretKeyRef().getName())
                .as(c.getName() + " " + variable)
                .isEqualTo(secret);
    }

    private static BigDecimal bytes(Quantity quantity) {
        return Quantity.getAmountInBytes(quantity);
    }

    private static BigDecimal gib(int n) {
        return BigDecimal.valueOf(n).multiply(BigDecimal.valueOf(1L << 30));
    }
}
