package dev.finetune.registry;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Downloads give back exactly the trained adapter, and damaged or incomplete versions are never served. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class DownloadTest {
    @Inject
    ObjectStore store;

    @Test
    void aDownloadedAdapterLoadsBackAndGivesTheTrainedLogits() throws Exception {
        String dataset = Pipeline.unique("dl");
        String model = Pipeline.modelOf(dataset);
        String job = Pipeline.unique("job");
        Pipeline.prepareDataset(store, dataset, "1");
        Pipeline.Trained trained = Pipeline.adapter(store, 61);
        Pipeline.uploadCheckpoint(store, job, 61, trained.directory());
        Pipeline.checkpointCreated(
                job,
                61,
                dataset,
                dev.finetune.events.FineTuneMethod.LORA,
                UUID.randomUUID().toString());
        Pipeline.evaluationCompleted(
                job,
                61,
                dev.finetune.events.EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.0),
                UUID.randomUUID().toString());
        Pipeline.awaitRegistered(job);

        // Presigned URLs straight from the object store, checked against the SHA-256 listed with them.
        Path presigned = Pipeline.scratch("presigned-");
        JsonPath download = given().get("/api/models/{m}/versions/1/download", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        List<Map<String, Object>> files = download.getList("files");
        assertThat(files).extracting(f -> f.get("name")).contains("adapter_config.json", "adapter_model.safetensors");
        HttpClient http = HttpClient.newHttpClient();
        for (Map<String, Object> file : files) {
            Path target = presigned.resolve((String) file.get("name"));
            HttpResponse<Path> response = http.send(
                    HttpRequest.newBuilder(URI.create((String) file.get("url"))).build(),
                    HttpResponse.BodyHandlers.ofFile(target));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(Digests.of(target)).isEqualTo(file.get("sha256"));
        }

        // Streaming through the service.
        Path streamed = Pipeline.scratch("streamed-");
        for (String name : List.of("adapter_config.json", "adapter_model.safetensors")) {
            byte[] bytes = given().get("/api/models/{m}/versions/1/files/{f}", model, name)
                    .then()
                    .statusCode(200)
                    .header("X-Sha256", org.hamcrest.Matchers.matchesPattern("[0-9a-f]{64}"))
                    .extract()
                    .asByteArray();
            Files.write(streamed.resolve(name), bytes);
        }

        for (Path adapter : List.of(presigned, streamed)) {
            try (CausalLm fresh = CausalLm.load(Pipeline.base(store), Device.cpu())) {
                PeftAdapter.load(fresh, adapter);
                assertThat(Pipeline.logits(fresh)).as(adapter.toString()).containsExactly(trained.logits());
            }
        }
        try (CausalLm base = CausalLm.load(Pipeline.base(store), Device.cpu())) {
            assertThat(Pipeline.logits(base))
                    .as("the adapter changes the logits")
                    .isNotEqualTo(trained.logits());
        }
    }

    @Test
    void aTamperedFileIsRefusedAndAVersionWithAMissingFileIsNotListedAsAvailable() throws Exception {
        String dataset = Pipeline.unique("tamper");
        String model = Pipeline.modelOf(dataset);
        Pipeline.register(store, Pipeline.unique("job"), dataset, 62, Map.of("eval_loss", 2.0));
        String card = "registry/" + model + "/1/README.md";
        byte[] original = store.getBytes(card);
        byte[] tampered = original.clone();
        tampered[tampered.length - 2] ^= 1; // same size, other bytes
        store.putBytes(card, tampered, "text/markdown");

        String error = given().get("/api/models/{m}/versions/1/files/README.md", model)
                .then()
                .statusCode(500)
                .extract()
                .jsonPath()
                .getString("detail");
        assertThat(error)
                .contains(card)
                .contains("does not match its record")
                .contains(Digests.of(new ByteArrayInputStream(original)));

        store.delete("registry/" + model + "/1/lineage.json");
        assertThat(given().get("/api/models/{m}/versions", model)
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getList("version"))
                .isEmpty();
        JsonPath all = given().get("/api/models/{m}/versions?includeIncomplete=true", model)
                .then()
                .extract()
                .jsonPath();
        assertThat(all.getList("status", String.class)).containsExactly("incomplete");
        assertThat(all.getList("problems[0]", String.class)).containsExactly("lineage.json is missing");
        given().get("/api/models/{m}/versions/1/download", model).then().statusCode(409);
        given().get("/api/models/{m}/versions/1/files/adapter_model.safetensors", model)
                .then()
                .statusCode(409);
        given().contentType("application/json")
                .body(Map.of("version", 1))
                .put("/api/models/{m}/aliases/production", model)
                .then()
                .statusCode(409);
    }
}
