package dev.finetune.deploy.validation;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;

/**
 * The Prometheus Operator's {@code monitoring.coreos.com/v1} ServiceMonitor, with the fields of its CRD
 * (ServiceMonitorSpec and Endpoint in the operator's {@code pkg/apis/monitoring/v1}) that our manifests
 * use or that are commonly set beside them. Read with unknown properties failing, so a misspelt field, or
 * one of the CRD's many others, is an error until it is added here.
 */
public record ServiceMonitor(String apiVersion, String kind, ObjectMeta metadata, Spec spec) {

    /** {@code selector} is required by the CRD; {@code endpoints} scrapes nothing when empty. */
    public record Spec(
            LabelSelector selector,
            NamespaceSelector namespaceSelector,
            List<Endpoint> endpoints,
            String jobLabel,
            List<String> targetLabels,
            List<String> podTargetLabels,
            Long sampleLimit) {}

    /** Namespaces to find the Services in; the ServiceMonitor's own when absent. */
    public record NamespaceSelector(Boolean any, List<String> matchNames) {}

    /** {@code port} names a port of the selected Services. */
    public record Endpoint(
            String port,
            String path,
            String scheme,
            String interval,
            String scrapeTimeout,
            Boolean honorLabels,
            Boolean honorTimestamps) {}
}
