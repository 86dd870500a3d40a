package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.deploy.validation.ManifestValidator;
import dev.finetune.deploy.validation.ScaledJob;
import dev.finetune.deploy.validation.TriggerAuthentication;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * components/private-ca on the gpu overlay (src/test/resources/private-ca, written as deploy/README.md
 * tells an admin to): it passes every check, including that its Secret is one the README has the
 * admin create, and every pipeline pod, the GPU workers' too, trusts that Secret's truststore.
 */
class PrivateCaTest {
    private static final String KUSTOMIZATION = "src/test/resources/private-ca";
    private static final String TRUSTSTORE = "/etc/pipeline/truststore/truststore.jks";

    @Test
    void everyPipelinePodAndKedasScalerTrustThePrivateCaFromItsSecret() {
        Repo.tool(); // no committed rendering of a test kustomization to fall back on
        assertThat(Repo.problems(Repo.render(KUSTOMIZATION), Repo.DEPLOY.resolve("README.md")))
                .isEmpty();

        ManifestValidator.Validation validation = Repo.validate(KUSTOMIZATION);
        Map<String, PodSpec> pods = new TreeMap<>();
        for (String service : Repo.SERVICES) {
            pods.put(
                    service,
                    Repo.deployment(validation, service).getSpec().getTemplate().getSpec());
        }
        pods.put(
                "training-workers",
                validation.all(ScaledJob.class).stream()
                        .filter(j -> j.metadata().getName().equals("training-workers"))
                        .findFirst()
                        .orElseThrow()
                        .spec()
                        .jobTargetRef()
                        .getTemplate()
                        .getSpec());
        pods.forEach((name, pod) -> {
            assertThat(pod.getVolumes()).as(name + " volumes").anySatisfy(v -> {
                assertThat(v.getName()).isEqualTo("truststore");
                assertThat(v.getSecret().getSecretName()).isEqualTo("pipeline-truststore");
            });
            Container container = pod.getContainers().get(0);
            assertThat(container.getVolumeMounts()).as(name + " mounts").anySatisfy(m -> {
                assertThat(m.getName()).isEqualTo("truststore");
                assertThat(TRUSTSTORE).startsWith(m.getMountPath() + "/");
                assertThat(m.getReadOnly()).isTrue();
            });
            assertThat(Repo.env(container, "JAVA_TOOL_OPTIONS").getValue())
                    .as(name + " JAVA_TOOL_OPTIONS")
                    .contains("-Djavax.net.ssl.trustStore=" + TRUSTSTORE, "-Djavax.net.ssl.trustStoreType=JKS");
        });
        assertThat(validation.all(TriggerAuthentication.class)).singleElement().satisfies(auth -> assertThat(
                        auth.spec().secretTargetRef())
                .as("KEDA's kafka scaler gets the CA certificate")
                .contains(new TriggerAuthentication.SecretTargetRef("ca", "pipeline-truststore", "ca.crt")));
    }
}
