package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.deploy.compose.ComposeCheck;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Compose's Prometheus and Grafana are wired to what exists: every scrape target is a service on a port
 * it listens on, and every file Prometheus and Grafana are told to read is mounted from the repository.
 */
class MonitoringTest {
    private static final Path COMPOSE = Repo.ROOT.resolve("docker-compose.yml");
    private static final Path PROMETHEUS_CONFIG = Repo.DEPLOY.resolve("observability/prometheus/prometheus.yml");
    private static final Path GRAFANA = Repo.DEPLOY.resolve("observability/grafana");

    /** A scrape job's targets: host (a Compose service, or localhost) and port. */
    record Target(String job, String metricsPath, String host, int port) {}

    @Test
    void prometheusScrapesEachServiceAtQMetricsOnItsHttpPort() throws IOException {
        List<Target> targets = targets();
        for (String service : Repo.SERVICES) {
            int httpPort = Integer.parseInt(properties(service).getProperty("quarkus.http.port"));

            assertThat(targets).as(service).contains(new Target(service, "/q/metrics", service, httpPort));
        }
    }

    @Test
    void everyScrapeTargetIsAComposeServiceOnAPortItListensOn() {
        Map<String, Object> services = map(ComposeCheck.load(COMPOSE).get("services"));
        for (Target target : targets()) {
            String service = target.host().equals("localhost") ? target.job() : target.host();

            assertThat(services).as(target.toString()).containsKey(service);
            assertThat(containerPorts(map(services.get(service))))
                    .as(target + ": the container ports of " + service)
                    .contains(target.port());
        }
    }

    @Test
    void prometheusReadsItsConfigurationAndRuleFilesFromTheRepository() {
        Map<String, Object> prometheus = service("prometheus");
        String configFile =
                String.valueOf(prometheus.get("command")).replaceAll(".*--config\\.file=([^,\\]]+).*", "$1");
        ObjectNode config =
                YamlDocuments.read(PROMETHEUS_CONFIG, "prometheus.yml").get(0);

        assertThat(mounted(prometheus, configFile)).hasValue(PROMETHEUS_CONFIG);
        assertThat(config.path("rule_files")).isNotEmpty();
        for (JsonNode ruleFile : config.path("rule_files")) {
            String inContainer =
                    Path.of(configFile).resolveSibling(ruleFile.asText()).toString();
            assertThat(mounted(prometheus, inContainer)).hasValue(AlertsTest.RULE_FILE);
        }
    }

    @Test
    void grafanaShowsTheDashboardOnTheComposePrometheus() {
        Map<String, Object> grafana = service("grafana");
        Map<String, Object> environment = map(grafana.get("environment"));
        JsonNode datasource = YamlDocuments.read(
                        GRAFANA.resolve("provisioning/datasources/prometheus.yml"), "datasource")
                .get(0)
                .path("datasources")
                .get(0);
        URI url = URI.create(datasource.path("url").asText());
        String dashboards = YamlDocuments.read(GRAFANA.resolve("provisioning/dashboards/finetune.yml"), "provider")
                .get(0)
                .at("/providers/0/options/path")
                .asText();

        assertThat(mounted(grafana, "/etc/grafana/provisioning")).hasValue(GRAFANA.resolve("provisioning"));
        assertThat(datasource.path("type").asText()).isEqualTo("prometheus");
        assertThat(url.getHost()).isEqualTo("prometheus");
        assertThat(containerPorts(service("prometheus"))).contains(url.getPort());
        assertThat(mounted(grafana, dashboards + "/" + DashboardTest.DASHBOARD.getFileName()))
                .hasValue(DashboardTest.DASHBOARD);
        assertThat(mounted(grafana, String.valueOf(environment.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"))))
                .hasValue(DashboardTest.DASHBOARD);
        assertThat(environment)
                .as("anonymous visitors may look, not edit")
                .containsEntry("GF_AUTH_ANONYMOUS_ORG_ROLE", "Viewer");
    }

    private static List<Target> targets() {
        ObjectNode config =
                YamlDocuments.read(PROMETHEUS_CONFIG, "prometheus.yml").get(0);
        List<Target> targets = new ArrayList<>();
        for (JsonNode job : config.path("scrape_configs")) {
            String name = job.path("job_name").asText();
            String path = job.path("metrics_path").asText("/metrics");
            for (JsonNode dns : job.path("dns_sd_configs")) {
                assertThat(dns.path("type").asText()).as(name).isEqualTo("A");
                dns.path("names")
                        .forEach(host -> targets.add(new Target(
                                name, path, host.asText(), dns.path("port").asInt())));
            }
            for (JsonNode statics : job.path("static_configs")) {
                statics.path("targets").forEach(t -> {
                    URI address = URI.create("http://" + t.asText());
                    targets.add(new Target(name, path, address.getHost(), address.getPort()));
                });
            }
        }
        assertThat(targets).isNotEmpty();
        return targets;
    }

    /** The container side of each published port ([ip:]host:container). */
    private static List<Integer> containerPorts(Map<String, Object> service) {
        List<Integer> ports = new ArrayList<>();
        for (Object entry : service.get("ports") instanceof List<?> l ? l : List.of()) {
            String[] parts = String.valueOf(entry).split(":");
            ports.add(Integer.parseInt(parts[parts.length - 1].replaceAll("/.*", "")));
        }
        return ports;
    }

    /** The repository file a bind mount of the service puts at this path in its container. */
    private static Optional<Path> mounted(Map<String, Object> service, String inContainer) {
        for (Object entry : service.get("volumes") instanceof List<?> l ? l : List.of()) {
            String[] parts = String.valueOf(entry).split(":");
            if (parts.length < 2 || !parts[0].startsWith("./")) {
                continue;
            }
            String target = parts[1];
            if (inContainer.equals(target) || inContainer.startsWith(target + "/")) {
                Path file = Repo.ROOT
                        .resolve(parts[0])
                        .resolve(inContainer.substring(target.length()).replaceFirst("^/", ""))
                        .normalize();
                return Files.exists(file) ? Optional.of(file) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    private static Map<String, Object> service(String name) {
        return map(map(ComposeCheck.load(COMPOSE).get("services")).get(name));
    }

    private static Properties properties(String service) {
        Properties p = new Properties();
        p.putAll(Map.of());
        try (var reader =
                Files.newBufferedReader(Repo.ROOT.resolve(service + "/src/main/resources/application.properties"))) {
            p.load(reader);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return p;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }
}
