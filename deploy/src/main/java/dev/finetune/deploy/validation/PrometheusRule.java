package dev.finetune.deploy.validation;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;
import java.util.Map;

/**
 * The Prometheus Operator's {@code monitoring.coreos.com/v1} PrometheusRule, field for field as its CRD
 * (PrometheusRuleSpec, RuleGroup, Rule in the operator's {@code pkg/apis/monitoring/v1}); status is never
 * in a manifest. {@link RuleGroup} is also the {@code groups} entry of a plain Prometheus rule file,
 * which has the same fields, so one model checks both.
 */
public record PrometheusRule(String apiVersion, String kind, ObjectMeta metadata, Spec spec) {

    public record Spec(List<RuleGroup> groups) {}

    /** A Prometheus rule file: what {@code rule_files} in prometheus.yml names. */
    public record RuleFile(List<RuleGroup> groups) {}

    public record RuleGroup(
            String name,
            String interval,
            List<Rule> rules,
            @JsonProperty("partial_response_strategy") String partialResponseStrategy,
            Integer limit,
            @JsonProperty("query_offset") String queryOffset,
            Map<String, String> labels) {}

    /** An alerting rule ({@code alert}) or a recording rule ({@code record}), never both. */
    public record Rule(
            String alert,
            String record,
            String expr,
            @JsonProperty("for") String pendingFor,
            @JsonProperty("keep_firing_for") String keepFiringFor,
            Map<String, String> labels,
            Map<String, String> annotations) {}
}
