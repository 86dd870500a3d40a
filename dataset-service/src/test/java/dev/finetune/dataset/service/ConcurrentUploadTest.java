package dev.finetune.dataset.service;

import static dev.finetune.dataset.service.DatasetUploadTest.alpaca;
import static dev.finetune.dataset.service.DatasetUploadTest.unique;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.dataset.catalog.DatasetCatalog;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.Digests;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Uploads and submissions of the same bytes racing each other make one version, and numbers stay dense. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class ConcurrentUploadTest {
    private static final String SUBMITTED = "dev.finetune.dataset.submitted.v1";

    @Inject
    DatasetCatalog catalog;

    @Test
    void eightConcurrentIdenticalUploadsMakeOneVersionAndTheNextFileIsVersionTwo() throws Exception {
        String name = unique("race");
        byte[] data = alpaca(30).getBytes(StandardCharsets.UTF_8);

        List<Response> answers = race(8, () -> given().body(data)
                .contentType("application/jsonl")
                .post("/api/datasets/{n}/versions", name)
                .then()
                .extract()
                .response());

        assertThat(answers).extracting(Response::statusCode).containsOnly(200, 201);
        assertThat(answers).filteredOn(r -> r.statusCode() == 201).hasSize(1);
        assertThat(answers).allSatisfy(r -> {
            assertThat(r.jsonPath().getString("version")).isEqualTo("1");
            assertThat(r.jsonPath().getBoolean("duplicate")).isEqualTo(r.statusCode() == 200);
        });
        assertThat(versions(name)).containsExactly("1");
        assertThat(EventTopics.read(
                        "datasets.ingested",
                        v -> v.path("datasetName").asText().equals(name),
                        1,
                        Duration.ofSeconds(20)))
                .hasSize(1);

        String next = given().body(alpaca(31).getBytes(StandardCharsets.UTF_8))
                .contentType("application/jsonl")
                .post("/api/datasets/{n}/versions", name)
                .then()
                .statusCode(201)
                .extract()
                .jsonPath()
                .getString("version");
        assertThat(next).isEqualTo("2");
        assertThat(versions(name)).containsExactly("1", "2");
    }

    @Test
    void uploadsAndSubmissionsOfTheSameBytesRacingEachOtherMakeOneVersion() throws Exception {
        String name = unique("mixed-race");
        byte[] data = alpaca(25).getBytes(StandardCharsets.UTF_8);
        String key = "exports/" + name + ".jsonl";
        DatasetSubmissionTest.upstream().putBytes(key, data, "application/jsonl");
        String event = "{\"datasetName\":\"" + name + "\",\"objectUri\":\"s3://upstream-exports/" + key + "\"}";

        List<String> eventIds = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            eventIds.add(UUID.randomUUID().toString());
            EventTopics.publishCloudEvent("datasets.submitted", name, eventIds.get(i), SUBMITTED, event);
        }
        List<Response> answers = race(4, () -> given().body(data)
                .contentType("application/jsonl")
                .post("/api/datasets/{n}/versions", name)
                .then()
                .extract()
                .response());

        assertThat(answers)
                .allSatisfy(r -> assertThat(r.jsonPath().getString("version")).isEqualTo("1"));
        DatasetUploadTest.awaitStatus(name, "1", "prepared");
        // A submission is done when its event id is indexed (to the version it made or found).
        await().atMost(Duration.ofSeconds(40)).untilAsserted(() -> assertThat(eventIds)
                .allSatisfy(id ->
                        assertThat(catalog.versionByEvent(name, Digests.of(id))).contains("1")));
        assertThat(versions(name)).containsExactly("1");
    }

    private static List<String> versions(String name) {
        return given().get("/api/datasets/{n}/versions", name)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("ingest.version");
    }

    /** Runs {@code call} on {@code n} threads released at the same moment. */
    private static <T> List<T> race(int n, java.util.concurrent.Callable<T> call) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(threads.submit(() -> {
                    start.await();
                    return call.call();
                }));
            }
            start.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } finally {
            threads.shutdownNow();
        }
    }
}
