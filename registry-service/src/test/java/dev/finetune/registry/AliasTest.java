package dev.finetune.registry;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Aliases move atomically and every move is recorded once, even when requests race. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AliasTest {
    private static final int RACERS = 8;

    @Inject
    ObjectStore store;

    private String model;

    /** Four versions of one model, registered by the first test that runs (the HTTP port is set per test). */
    @BeforeEach
    void fourVersions() throws Exception {
        if (model != null) {
            return;
        }
        String dataset = Pipeline.unique("alias");
        Pipeline.register(store, Pipeline.unique("job"), dataset, 41, Map.of("eval_loss", 2.3, "exact_match", 0.40));
        Pipeline.register(store, Pipeline.unique("job"), dataset, 42, Map.of("eval_loss", 2.1, "exact_match", 0.55));
        Pipeline.register(store, Pipeline.unique("job"), dataset, 43, Map.of("eval_loss", 2.2, "exact_match", 0.60));
        Pipeline.register(store, Pipeline.unique("job"), dataset, 44, Map.of("eval_loss", 2.5, "exact_match", 0.30));
        model = Pipeline.modelOf(dataset);
    }

    @Test
    void concurrentConditionalMovesEndConsistentWithOneRecordedWinner() throws Exception {
        setAlias("production", Map.of("version", 1)).then().statusCode(200);

        List<Response> answers = race(i -> setAlias("production", Map.of("version", 2 + i % 2, "expectedVersion", 1)));

        List<Response> won = answers.stream().filter(r -> r.statusCode() == 200).toList();
        assertThat(won).hasSize(1);
        assertThat(answers).filteredOn(r -> r.statusCode() == 409).hasSize(RACERS - 1);
        assertThat(answers.stream()
                        .filter(r -> r.statusCode() == 409)
                        .findFirst()
                        .orElseThrow()
                        .jsonPath()
                        .getString("detail"))
                .contains("not the expected version 1");
        long winner = won.get(0).jsonPath().getLong("version");
        JsonPath alias = given().get("/api/models/{m}/aliases/production", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(alias.getLong("version")).isEqualTo(winner);
        assertThat(alias.getList("history.to", Long.class)).containsExactly(1L, winner);
        assertThat(alias.getList("history.from", Long.class)).containsExactly(null, 1L);
        assertThat(alias.getList("history.actor", String.class)).containsOnly("anonymous");

        List<EventTopics.Received> moves = RegistryTopics.events(model, 2).stream()
                .filter(e -> e.value().path("alias").asText().equals("production"))
                .toList();
        assertThat(moves).extracting(e -> e.value().path("version").asLong()).containsExactly(1L, winner);
        assertThat(moves.get(1).value().path("previousVersion").asLong()).isEqualTo(1L);
        assertThat(moves).extracting(e -> e.value().path("action").asText()).containsOnly("alias_set");
    }

    @Test
    void concurrentUnconditionalMovesAreEachRecordedInOrder() throws Exception {
        List<Response> answers = race(i -> setAlias("staging", Map.of("version", 1 + i % 3)));

        assertThat(answers).extracting(Response::statusCode).containsOnly(200);
        JsonPath alias = given().get("/api/models/{m}/aliases/staging", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        List<Long> from = alias.getList("history.from", Long.class);
        List<Long> to = alias.getList("history.to", Long.class);
        assertThat(to).isNotEmpty().hasSizeLessThanOrEqualTo(RACERS);
        assertThat(alias.getList("history.revision", Long.class))
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, to.size())
                        .boxed()
                        .toList());
        assertThat(from.get(0)).isNull();
        for (int i = 1; i < to.size(); i++) {
            assertThat(from.get(i))
                    .as("move %d starts where move %d ended", i + 1, i)
                    .isEqualTo(to.get(i - 1));
            assertThat(to.get(i)).isNotEqualTo(from.get(i));
        }
        assertThat(alias.getLong("version")).isEqualTo(to.get(to.size() - 1));
        assertThat(alias.getLong("revision")).isEqualTo(to.size());
    }

    @Test
    void removingAnAliasIsRecordedAndArchivingRespectsAliases() throws Exception {
        setAlias("canary", Map.of("version", 4)).then().statusCode(200);
        assertThat(given().post("/api/models/{m}/versions/4/archive", model)
                        .then()
                        .statusCode(409)
                        .extract()
                        .jsonPath()
                        .getString("detail"))
                .contains("alias canary");
        given().delete("/api/models/{m}/aliases/canary?expectedVersion=3", model)
                .then()
                .statusCode(409);
        JsonPath removed = given().delete("/api/models/{m}/aliases/canary?expectedVersion=4", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(removed.getString("version")).isNull();
        assertThat(removed.getList("history.to", Long.class)).containsExactly(4L, null);
        given().delete("/api/models/{m}/aliases/canary", model).then().statusCode(404);

        JsonPath archived = given().post("/api/models/{m}/versions/4/archive", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(archived.getString("status")).isEqualTo("archived");
        assertThat(archived.getString("archived.archivedBy")).isEqualTo("anonymous");
        setAlias("canary", Map.of("version", 4)).then().statusCode(409);
        assertThat(versions("")).doesNotContain(4L);
        assertThat(versions("?includeArchived=true")).contains(4L);
        given().get("/api/models/{m}/versions/4/files/adapter_config.json", model)
                .then()
                .statusCode(200);
        assertThat(RegistryTopics.events(model, 1).stream()
                        .map(e -> e.value().path("action").asText()))
                .contains("alias_removed", "version_archived");
    }

    @Test
    void versionsAreFilteredByMetricAliasAndBaseModel() {
        setAlias("eval", Map.of("version", 2)).then().statusCode(200);
        assertThat(versions("?includeArchived=true&metric=exact_match&min=0.5")).containsExactly(2L, 3L);
        assertThat(versions("?includeArchived=true&metric=eval_loss&max=2.15")).containsExactly(2L);
        assertThat(versions("?includeArchived=true&metric=rouge_l")).isEmpty();
        assertThat(versions("?alias=eval")).containsExactly(2L);
        assertThat(versions("?includeArchived=true&baseModel=tiny-llama")).containsExactly(1L, 2L, 3L, 4L);
        assertThat(versions("?baseModel=other")).isEmpty();
        given().get("/api/models/{m}/versions?min=1", model).then().statusCode(400);
        setAlias("5", Map.of("version", 2)).then().statusCode(400);
    }

    private List<Long> versions(String query) {
        return given().get("/api/models/{m}/versions" + query, model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("version", Long.class);
    }

    private Response setAlias(String alias, Map<String, Object> body) {
        return given().contentType("application/json").body(body).put("/api/models/{m}/aliases/{a}", model, alias);
    }

    /** Sends {@link #RACERS} requests at once (released together) and returns every answer. */
    private static List<Response> race(java.util.function.IntFunction<Response> request) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(RACERS);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Response>> futures = new ArrayList<>();
            for (int i = 0; i < RACERS; i++) {
                int index = i;
                Callable<Response> call = () -> {
                    start.await();
                    return request.apply(index);
                };
                futures.add(pool.submit(call));
            }
            start.countDown();
            List<Response> answers = new ArrayList<>();
            for (Future<Response> future : futures) {
                answers.add(future.get());
            }
            return answers;
        } finally {
            pool.shutdownNow();
        }
    }
}
