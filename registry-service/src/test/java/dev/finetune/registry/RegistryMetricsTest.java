package dev.finetune.registry;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.Scrape;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What an operator's Prometheus sees of the registry: scraped from /q/metrics before and after. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class RegistryMetricsTest {
    private static final String REGISTERED = "finetune_registry_versions_registered_total";
    private static final String PROMOTIONS = "finetune_registry_promotions_total";

    @Inject
    ObjectStore store;

    @Test
    void registeredVersionsAndAliasMovesAreCountedOnce() throws Exception {
        String dataset = Pipeline.unique("metrics");
        String model = Pipeline.modelOf(dataset);
        Scrape before = Scrape.now();

        Pipeline.register(store, Pipeline.unique("job"), dataset, 51, Map.of("eval_loss", 2.0));
        Pipeline.register(store, Pipeline.unique("job"), dataset, 52, Map.of("eval_loss", 1.9));
        setAlias(model, "staging", 1);
        setAlias(model, "staging", 1); // already there: nothing moves
        setAlias(model, "staging", 2);
        setAlias(model, "canary", 2);

        Scrape after = Scrape.now();
        assertThat(after.value(REGISTERED) - before.value(REGISTERED)).isEqualTo(2);
        assertThat(delta(before, after, PROMOTIONS, Map.of("alias", "staging"))).isEqualTo(2);
        assertThat(delta(before, after, PROMOTIONS, Map.of("alias", "canary"))).isEqualTo(1);
    }

    private static void setAlias(String model, String alias, long version) {
        given().contentType("application/json")
                .body(Map.of("version", version))
                .put("/api/models/{m}/aliases/{a}", model, alias)
                .then()
                .statusCode(200);
    }

    private static double delta(Scrape before, Scrape after, String name, Map<String, String> labels) {
        return after.value(name, labels) - before.value(name, labels);
    }
}
