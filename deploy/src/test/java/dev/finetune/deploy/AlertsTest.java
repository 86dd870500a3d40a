package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.deploy.validation.PrometheusRule;
import dev.finetune.deploy.validation.PrometheusRule.Rule;
import dev.finetune.deploy.validation.PrometheusRule.RuleGroup;
import dev.finetune.deploy.validation.RuleGroups;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's alerts: one rule file for Compose's Prometheus, the same groups as a PrometheusRule on
 * Kubernetes, each alert one the issue asks for, on metrics the services really expose.
 */
class AlertsTest {
    static final Path RULE_FILE = Repo.DEPLOY.resolve("observability/prometheus/alerts.yml");
    private static final ObjectMapper STRICT =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    @Test
    void ruleFileHasWhatPrometheusAndOperatorsNeed() {
        assertThat(RuleGroups.check(composeGroups(), "groups")).isEmpty();
    }

    @Test
    void alertsAreTheOnesOperatorsAskedFor() {
        Map<String, Rule> alerts = alerts();

        assertThat(alerts)
                .containsOnlyKeys(
                        "FinetuneJobFailed",
                        "FinetuneMessageDeadLettered",
                        "FinetuneTrainingBacklog",
                        "FinetuneServiceDown");
        assertThat(alerts.get("FinetuneJobFailed").expr())
                .contains("increase(finetune_job_state_transitions_total{state=\"failed\"}[5m])")
                .endsWith("> 0");
        assertThat(alerts.get("FinetuneMessageDeadLettered").expr())
                .contains("increase(finetune_kafka_dead_lettered_total[5m])")
                .contains("by (job, topic, group)")
                .endsWith("> 0");
        assertThat(alerts.get("FinetuneTrainingBacklog").pendingFor()).isEqualTo("10m");
        assertThat(alerts.get("FinetuneServiceDown").pendingFor()).isEqualTo("5m");
        assertThat(alerts.get("FinetuneServiceDown").labels()).containsEntry("severity", "critical");
    }

    @Test
    void backlogAlertWatchesTheTrainingWorkersGroupOnTheJobsTopic() {
        ServiceConfig.Channel jobs = ServiceConfig.channels().stream()
                .filter(c -> c.service().equals("training-service") && c.incoming())
                .filter(c -> c.topic().equals("training.jobs"))
                .findFirst()
                .orElseThrow();

        assertThat(alerts().get("FinetuneTrainingBacklog").expr())
                .contains("finetune_kafka_consumer_lag_records{topic=\"" + jobs.topic() + "\", group=\"" + jobs.group()
                        + "\"}");
    }

    /** Compose names each scrape job after its service, the ServiceMonitor after the Service: the same names. */
    @Test
    void serviceDownAlertWatchesEveryServiceByItsJobName() {
        String expr = alerts().get("FinetuneServiceDown").expr();

        assertThat(expr).contains("up{job=~\"" + String.join("|", Repo.SERVICES) + "\"} == 0");
        for (String service : Repo.SERVICES) {
            assertThat(expr).contains("absent(up{job=\"" + service + "\"})");
        }
    }

    @Test
    void everyAlertQueriesOnlyMetricsAndLabelsTheServicesExpose() {
        for (Rule rule : alerts().values()) {
            List<MetricNames.Selector> selectors = MetricNames.selectors(rule.expr());

            assertThat(selectors).as(rule.alert()).isNotEmpty();
            assertThat(selectors).as(rule.alert()).allSatisfy(s -> assertThat(MetricNames.problem(s))
                    .isEmpty());
        }
    }

    @Test
    void selectorsAreReadFromPromQlWithoutFunctionsKeywordsOrLabelValues() {
        String expr = "histogram_quantile(0.95, sum by (le, method) (rate(a_seconds_bucket{method=~\"lora|full\"}"
                + "[$__rate_interval]))) > 1e3 and on (job) b_total offset 5m or absent(up{job=\"x y\"})";

        assertThat(MetricNames.selectors(expr))
                .containsExactly(
                        new MetricNames.Selector("a_seconds_bucket", Set.of("method")),
                        new MetricNames.Selector("b_total", Set.of()),
                        new MetricNames.Selector("up", Set.of("job")));
    }

    @Test
    void renamedMetricOrLabelIsReported() {
        assertThat(MetricNames.problem(new MetricNames.Selector("finetune_job_transitions_total", Set.of())))
                .startsWith("finetune_job_transitions_total is not a metric the services expose");
        assertThat(MetricNames.problem(
                        new MetricNames.Selector("finetune_job_state_transitions_total", Set.of("status"))))
                .startsWith("finetune_job_state_transitions_total has no label [status]");
        assertThat(MetricNames.problem(new MetricNames.Selector("http_server_requests_seconds", Set.of())))
                .contains("is a histogram or summary");
    }

    static List<RuleGroup> composeGroups() {
        try {
            return STRICT.treeToValue(
                            YamlDocuments.read(RULE_FILE, "alerts.yml").get(0), PrometheusRule.RuleFile.class)
                    .groups();
        } catch (JsonProcessingException e) {
            throw new AssertionError(RULE_FILE + ": " + e.getOriginalMessage(), e);
        }
    }

    private static Map<String, Rule> alerts() {
        return composeGroups().stream()
                .flatMap(g -> g.rules().stream())
                .filter(r -> r.alert() != null)
                .collect(Collectors.toMap(Rule::alert, Function.identity()));
    }
}
