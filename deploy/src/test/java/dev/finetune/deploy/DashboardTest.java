package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.finetune.deploy.validation.RuleGroups;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard Compose provisions (and that Kubernetes users import): valid JSON Grafana can
 * lay out, every panel querying Prometheus through the dashboard's data-source variable, only on metrics
 * the services expose, and a panel for each of them.
 */
class DashboardTest {
    static final Path DASHBOARD = Repo.DEPLOY.resolve("observability/grafana/dashboards/finetune-pipeline.json");
    private static final String DATASOURCE = "${datasource}";

    private static JsonNode dashboard;

    @BeforeAll
    static void read() throws IOException {
        dashboard = JsonMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build()
                .readTree(DASHBOARD.toFile());
    }

    @Test
    void dashboardHasItsIdentityAndTheDataSourceVariable() {
        assertThat(dashboard.path("uid").asText()).isEqualTo("finetune-pipeline");
        assertThat(dashboard.path("title").asText()).isNotBlank();
        assertThat(dashboard.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
        assertThat(dashboard.path("templating").path("list")).anySatisfy(variable -> {
            assertThat(variable.path("name").asText()).isEqualTo("datasource");
            assertThat(variable.path("type").asText()).isEqualTo("datasource");
            assertThat(variable.path("query").asText()).isEqualTo("prometheus");
        });
    }

    @Test
    void panelsHaveUniqueIdsAndDoNotOverlapOnTheGrid() {
        Set<Integer> ids = new HashSet<>();
        List<int[]> boxes = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            JsonNode grid = panel.path("gridPos");
            int x = grid.path("x").asInt();
            int y = grid.path("y").asInt();
            int w = grid.path("w").asInt();
            int h = grid.path("h").asInt();
            String title = panel.path("title").asText();

            assertThat(ids.add(panel.path("id").asInt()))
                    .as("unique id of " + title)
                    .isTrue();
            assertThat(w).as(title).isPositive();
            assertThat(h).as(title).isPositive();
            assertThat(x + w).as(title + " fits the 24 columns").isLessThanOrEqualTo(24);
            for (int[] other : boxes) {
                boolean overlaps =
                        x < other[0] + other[2] && other[0] < x + w && y < other[1] + other[3] && other[1] < y + h;
                assertThat(overlaps).as(title + " overlaps another panel").isFalse();
            }
            boxes.add(new int[] {x, y, w, h});
        }
    }

    @Test
    void everyPanelQueriesPrometheusThroughTheDataSourceVariable() {
        List<JsonNode> panels = panels();

        assertThat(panels).hasSizeGreaterThanOrEqualTo(20);
        for (JsonNode panel : panels) {
            String title = panel.path("title").asText();
            assertThat(title).isNotBlank();
            assertThat(panel.path("datasource").path("type").asText()).as(title).isEqualTo("prometheus");
            assertThat(panel.path("datasource").path("uid").asText()).as(title).isEqualTo(DATASOURCE);
            assertThat(panel.path("targets")).as(title + " targets").isNotEmpty();
            Set<String> refIds = new HashSet<>();
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText();
                assertThat(refIds.add(target.path("refId").asText()))
                        .as(title + " refId")
                        .isTrue();
                assertThat(expr).as(title).isNotBlank();
                assertThat(RuleGroups.balanced(expr)).as(title + ": " + expr).isTrue();
                assertThat(target.path("datasource").path("uid").asText())
                        .as(title)
                        .isEqualTo(DATASOURCE);
            }
        }
    }

    @Test
    void everyQueryUsesOnlyMetricsAndLabelsTheServicesExpose() {
        for (String expr : expressions()) {
            List<MetricNames.Selector> selectors = MetricNames.selectors(expr);

            assertThat(selectors).as(expr).isNotEmpty();
            assertThat(selectors).as(expr).allSatisfy(s -> assertThat(MetricNames.problem(s))
                    .isEmpty());
        }
    }

    @Test
    void everyMetricTheServicesExposeIsOnAPanel() {
        Set<String> used = new TreeSet<>();
        for (String expr : expressions()) {
            MetricNames.selectors(expr).forEach(s -> used.add(MetricNames.baseOf(s.metric())));
        }

        assertThat(used).containsAll(MetricNames.KNOWN.keySet());
    }

    @Test
    void stepDurationShowsTheMedianAndThe95thPercentileFromTheHistogram() {
        assertThat(expressions())
                .anySatisfy(e -> assertThat(e)
                        .startsWith("histogram_quantile(0.5,")
                        .contains("finetune_training_step_duration_seconds_bucket"))
                .anySatisfy(e -> assertThat(e)
                        .startsWith("histogram_quantile(0.95,")
                        .contains("finetune_training_step_duration_seconds_bucket"));
    }

    /** Every panel but the rows that group them. */
    private static List<JsonNode> panels() {
        List<JsonNode> panels = new ArrayList<>();
        dashboard.path("panels").forEach(p -> {
            if (!p.path("type").asText().equals("row")) {
                panels.add(p);
            }
        });
        return panels;
    }

    private static List<String> expressions() {
        List<String> expressions = new ArrayList<>();
        panels().forEach(p ->
                p.path("targets").forEach(t -> expressions.add(t.path("expr").asText())));
        return expressions;
    }
}
