package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.deploy.compose.ComposeCheck;
import dev.finetune.deploy.render.Resource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docker-compose.yml, checked without Docker; and the checks themselves, on a small broken file each. */
class ComposeTest {
    private static final Path COMPOSE = Repo.ROOT.resolve("docker-compose.yml");

    /** A valid file; each negative test changes one thing in it. */
    private static final String SMALL =
            """
            services:
              store:
                image: example/store:1
                volumes: [store-data:/data]
                healthcheck:
                  test: ["CMD", "true"]
              app:
                build: {context: ., args: {SERVICE: app}}
                environment:
                  STORE_PASSWORD: ${STORE_PASSWORD:-local}
                ports: ["127.0.0.1:8080:8080"]
                depends_on:
                  store: {condition: service_healthy}
                healthcheck:
                  test: ["CMD", "curl", "-f", "http://localhost:8080/"]
            volumes:
              store-data:
            """;

    @TempDir
    Path dir;

    @BeforeEach
    void writeDockerfile() throws IOException {
        Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\nARG SERVICE\n");
    }

    @Test
    void composeFileHasNoProblems() {
        assertThat(ComposeCheck.check(COMPOSE)).isEmpty();
    }

    @Test
    void composeBuildsEachServiceFromItsModuleAsTheImageTheDevOverlayRuns() {
        Map<String, Object> services = map(ComposeCheck.load(COMPOSE).get("services"));
        List<String> devImages = Repo.render("overlays/dev").stream()
                .filter(r -> r.kind().equals("Deployment"))
                .map(r -> r.at("/spec/template/spec/containers/0/image").asText())
                .toList();
        for (String service : Repo.SERVICES) {
            Map<String, Object> compose = map(services.get(service));
            Map<String, Object> build = map(compose.get("build"));

            assertThat(map(build.get("args"))).containsEntry("SERVICE", service);
            assertThat(Repo.ROOT.resolve(service).resolve("pom.xml")).isRegularFile();
            assertThat(compose.get("image")).isEqualTo("finetune/" + service + ":dev");
            assertThat(devImages).contains("finetune/" + service + ":dev");
            assertThat(map(compose.get("environment"))).containsEntry("PIPELINE_SECURITY_ENABLED", "false");
        }
    }

    @Test
    void gpuProfileAddsACudaTrainingWorkerWithAGpuAsTheGpuOverlayRuns() {
        Map<String, Object> gpu =
                map(map(ComposeCheck.load(COMPOSE).get("services")).get("training-service-gpu"));
        String overlayImage = Repo.render("overlays/gpu").stream()
                .filter(r -> r.kind().equals("Deployment") && r.name().equals("training-service"))
                .map(r -> r.at("/spec/template/spec/containers/0/image").asText())
                .findFirst()
                .orElseThrow();

        assertThat(gpu.get("profiles")).isEqualTo(List.of("gpu"));
        assertThat(map(map(gpu.get("build")).get("args")))
                .containsEntry("SERVICE", "training-service")
                .containsEntry("MAVEN_PROFILES", "cuda");
        assertThat(overlayImage).as("the image the gpu overlay runs").isEqualTo(gpu.get("image"));
        Map<String, Object> device =
                map(((List<?>) map(map(map(gpu.get("deploy")).get("resources")).get("reservations"))
                                .get("devices"))
                        .get(0));
        assertThat(device).containsEntry("driver", "nvidia").containsEntry("capabilities", List.of("gpu"));
        assertThat(map(gpu.get("environment")))
                .containsEntry("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
                .as("a second worker needs its own id")
                .containsKey("PIPELINE_TRAINING_WORKER_ID");
    }

    @Test
    void composeAndKubernetesRunTheSameCollectorConfiguration() throws IOException {
        Map<String, Object> collector =
                map(map(ComposeCheck.load(COMPOSE).get("services")).get("otel-collector"));
        Path config = Repo.DEPLOY.resolve("observability/collector.yaml");
        Resource configMap = Repo.render("observability").stream()
                .filter(r -> r.kind().equals("ConfigMap"))
                .findFirst()
                .orElseThrow();

        assertThat(String.valueOf(collector.get("volumes")))
                .contains("./deploy/observability/collector.yaml:/etc/otelcol/collector.yaml:ro");
        assertThat(configMap.at("/data/collector.yaml").asText()).isEqualTo(Files.readString(config));
    }

    @Test
    void smallValidFileHasNoProblems() throws IOException {
        assertThat(check(SMALL)).isEmpty();
    }

    @Test
    void serviceWithoutHealthCheckIsReported() throws IOException {
        String broken = SMALL.replace("    healthcheck:\n      test: [\"CMD\", \"true\"]\n", "");

        assertThat(check(broken))
                .contains("docker-compose.yml: services.store.healthcheck: every service needs a "
                        + "health check (test: [CMD, ...] or [CMD-SHELL, ...])");
    }

    @Test
    void misspeltKeyIsReported() throws IOException {
        String broken = SMALL.replace(
                "    healthcheck:\n      test: [\"CMD\", \"true\"]",
                "    healtcheck:\n      test: [\"CMD\", \"true\"]");

        assertThat(check(broken)).contains("docker-compose.yml: services.store.healtcheck: unknown key");
    }

    @Test
    void buildWithoutItsDockerfileIsReported() throws IOException {
        Files.delete(dir.resolve("Dockerfile"));

        assertThat(check(SMALL)).anySatisfy(problem -> assertThat(problem)
                .startsWith("docker-compose.yml: services.app.build.dockerfile: ")
                .endsWith("Dockerfile does not exist"));
    }

    @Test
    void buildArgTheDockerfileDoesNotDeclareIsReported() throws IOException {
        String broken = SMALL.replace("args: {SERVICE: app}", "args: {SERVICE: app, SERVISE: app}");

        assertThat(check(broken))
                .contains(
                        "docker-compose.yml: services.app.build.args.SERVISE: the Dockerfile declares no ARG SERVISE");
    }

    @Test
    void undeclaredNamedVolumeIsReported() throws IOException {
        String broken = SMALL.replace("volumes:\n  store-data:\n", "");

        assertThat(check(broken))
                .contains("docker-compose.yml: services.store.volumes: "
                        + "named volume store-data is not declared under the top-level volumes");
    }

    @Test
    void mountedFileMissingFromTheRepositoryIsReported() throws IOException {
        String broken = SMALL.replace(
                "volumes: [store-data:/data]", "volumes: [store-data:/data, ./store.yml:/etc/store.yml:ro]");

        assertThat(check(broken))
                .contains("docker-compose.yml: services.store.volumes: bind source ./store.yml does not exist");
    }

    @Test
    void dependencyNotAwaitedHealthyIsReported() throws IOException {
        String broken = SMALL.replace("condition: service_healthy", "condition: service_started");

        assertThat(check(broken))
                .contains("docker-compose.yml: services.app.depends_on.store.condition: "
                        + "is service_started, should be service_healthy");
    }

    @Test
    void portPublishedOnEveryInterfaceIsReported() throws IOException {
        String broken = SMALL.replace("\"127.0.0.1:8080:8080\"", "\"8080:8080\"");

        assertThat(check(broken))
                .contains("docker-compose.yml: services.app.ports: "
                        + "8080:8080 is published on every interface; bind it to 127.0.0.1");
    }

    @Test
    void literalCredentialIsReported() throws IOException {
        String broken = SMALL.replace("${STORE_PASSWORD:-local}", "hunter2");

        assertThat(check(broken))
                .contains("docker-compose.yml: services.app.environment.STORE_PASSWORD: "
                        + "literal credential; use a variable (${STORE_PASSWORD:-...})");
    }

    private List<String> check(String compose) throws IOException {
        Path file = dir.resolve("docker-compose.yml");
        Files.writeString(file, compose);
        return ComposeCheck.check(file);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }
}
