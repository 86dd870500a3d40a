package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.deploy.compose.ComposeCheck;
import dev.finetune.deploy.validation.ManifestValidator;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every environment variable given to a pipeline service is one it reads, spelt as the README and the
 * services' properties spell it: a misspelt name would be silently ignored and the default used.
 */
class EnvironmentNamesTest {
    /** Read by the image and the native libraries rather than the application's configuration. */
    private static final Set<String> RUNTIME = Set.of(
            "JAVA_OPTS", // the image's entry point passes it to java
            "DJL_CACHE_DIR", // where DJL unpacks its native libraries
            "OMP_NUM_THREADS"); // PyTorch's intra-op threads

    private static final Set<String> EVERY_SERVICE_NEEDS = Set.of(
            "KAFKA_BOOTSTRAP_SERVERS",
            "PIPELINE_OBJECT_STORE_ENDPOINT",
            "PIPELINE_OBJECT_STORE_ACCESS_KEY",
            "PIPELINE_OBJECT_STORE_SECRET_KEY",
            "PIPELINE_SECURITY_ENABLED",
            "OTEL_EXPORTER_OTLP_ENDPOINT");

    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/gpu"})
    void kubernetesGivesEachServiceOnlyVariablesItReads(String overlay) {
        ManifestValidator.Validation validation = Repo.validate(overlay);
        Set<String> known = knownNames();
        for (String service : Repo.SERVICES) {
            Set<String> given = variables(validation, Repo.container(Repo.deployment(validation, service)));

            assertThat(known).as(service).containsAll(given);
            assertThat(given).as(service).containsAll(EVERY_SERVICE_NEEDS);
        }
    }

    @Test
    void composeGivesEachServiceOnlyVariablesItReads() {
        Map<String, Object> services =
                asMap(ComposeCheck.load(Repo.ROOT.resolve("docker-compose.yml")).get("services"));
        Set<String> known = knownNames();
        for (String service : Repo.SERVICES) {
            Set<String> given =
                    asMap(asMap(services.get(service)).get("environment")).keySet();

            assertThat(known).as(service).containsAll(given);
            assertThat(given).as(service).containsAll(EVERY_SERVICE_NEEDS);
        }
    }

    /**
     * The README's variables and settings (a {@code pipeline.x.y} setting is read from {@code PIPELINE_X_Y}),
     * the variables the properties files name, and the runtime's own.
     */
    private static Set<String> knownNames() {
        Set<String> names = new TreeSet<>(RUNTIME);
        names.addAll(ServiceConfig.variablesReferenced());
        Matcher code = Pattern.compile("`([^`\\s]+)`").matcher(ServiceConfig.read(Repo.ROOT.resolve("README.md")));
        while (code.find()) {
            String token = code.group(1);
            if (token.matches("[A-Z][A-Z0-9_]+")) {
                names.add(token);
            } else if (token.matches("(pipeline|quarkus)\\.[a-z0-9.-]+")) {
                names.add(token.toUpperCase().replaceAll("[^A-Z0-9]", "_"));
            }
        }
        return names;
    }

    private static Set<String> variables(ManifestValidator.Validation validation, Container container) {
        Set<String> names = new TreeSet<>();
        container.getEnv().stream().map(EnvVar::getName).forEach(names::add);
        for (EnvFromSource from : container.getEnvFrom()) {
            String name = from.getConfigMapRef().getName();
            validation.all(ConfigMap.class).stream()
                    .filter(c -> c.getMetadata().getName().equals(name))
                    .forEach(c -> names.addAll(c.getData().keySet()));
        }
        return names;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object value) {
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }
}
