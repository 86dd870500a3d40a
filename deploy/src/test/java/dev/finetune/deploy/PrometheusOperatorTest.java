package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.deploy.validation.LabelSelectors;
import dev.finetune.deploy.validation.ManifestValidator;
import dev.finetune.deploy.validation.PrometheusRule;
import dev.finetune.deploy.validation.ServiceMonitor;
import io.fabric8.kubernetes.api.model.Service;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * On Kubernetes the Prometheus Operator scrapes the four services where they serve /q/metrics and
 * evaluates the alerts Compose's Prometheus evaluates; only the overlay for clusters that run the
 * operator asks for its kinds.
 */
class PrometheusOperatorTest {
    @Test
    void serviceMonitorScrapesTheFourServicesAtQMetricsUnderTheirServiceNames() {
        ManifestValidator.Validation gpu = Repo.validate("overlays/gpu");
        ServiceMonitor monitor = gpu.all(ServiceMonitor.class).get(0);
        List<String> selected = gpu.all(Service.class).stream()
                .filter(s -> LabelSelectors.matches(
                        monitor.spec().selector(), s.getMetadata().getLabels()))
                .map(s -> s.getMetadata().getName())
                .toList();

        assertThat(selected).containsExactlyInAnyOrderElementsOf(Repo.SERVICES);
        assertThat(monitor.spec().endpoints()).singleElement().satisfies(endpoint -> {
            assertThat(endpoint.port()).isEqualTo("http");
            assertThat(endpoint.path()).isEqualTo("/q/metrics");
        });
        assertThat(monitor.spec().jobLabel())
                .as("unset: the job label is the Service's name, which the alerts select by")
                .isNull();
    }

    @Test
    void kubernetesEvaluatesExactlyTheComposeAlerts() {
        List<PrometheusRule> rules = Repo.validate("overlays/gpu").all(PrometheusRule.class);

        assertThat(rules).singleElement().satisfies(rule -> assertThat(
                        rule.spec().groups())
                .as("spec.groups of deploy/components/monitoring/prometheus-rule.yaml")
                .isEqualTo(AlertsTest.composeGroups()));
    }

    /** The dev overlay runs on a laptop cluster without the operator, where kubectl would refuse its kinds. */
    @Test
    void devOverlayNeedsNoPrometheusOperator() {
        ManifestValidator.Validation dev = Repo.validate("overlays/dev");

        assertThat(dev.all(ServiceMonitor.class)).isEmpty();
        assertThat(dev.all(PrometheusRule.class)).isEmpty();
    }
}
