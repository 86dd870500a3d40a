package dev.finetune.dataset.service;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class TriggerAndStatisticsTest {

    @Inject
    ObjectStore store;

    @Test
    void preparedVersionCarriesTheDatasetsCheckedTrigger() throws Exception {
        String name = DatasetUploadTest.unique("triggered");
        JsonPath stored = given().contentType("application/json")
                .body("{\"baseModel\":\"tiny-base\",\"method\":\"lora\",\"objective\":\"sft\","
                        + "\"hyperparameters\":{\"num_train_epochs\":\"2\",\"learning_rate\":0.001},"
                        + "\"suffix\":\"support\"}")
                .put("/api/datasets/{n}/trigger", name)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(stored.getDouble("hyperparameters.num_train_epochs"))
                .as("stored as checked: a number, in the catalog's order")
                .isEqualTo(2.0);
        seedTokenizer("tiny-base");

        DatasetUploadTest.upload(name, DatasetUploadTest.alpaca(20), 201);
        DatasetUploadTest.awaitStatus(name, "1", "prepared");

        List<EventTopics.Received> prepared = EventTopics.read(
                "datasets.prepared", v -> v.path("datasetName").asText().equals(name), 1, Duration.ofSeconds(20));
        assertThat(prepared).singleElement().satisfies(event -> {
            assertThat(event.key()).isEqualTo(name + "@1");
            assertThat(event.value().path("trigger").path("baseModel").asText()).isEqualTo("tiny-base");
            assertThat(event.value().path("trigger").path("method").asText()).isEqualTo("lora");
            assertThat(event.value().path("trigger").path("suffix").asText()).isEqualTo("support");
            assertThat(event.value()
                            .path("trigger")
                            .path("hyperparameters")
                            .path("learning_rate")
                            .asDouble())
                    .isEqualTo(0.001);
        });
    }

    @Test
    void aTriggerWithAnInvalidOrUnknownSettingIsRefusedWhenItIsSet() {
        String name = DatasetUploadTest.unique("badtrigger");
        given().contentType("application/json")
                .body("{\"baseModel\":\"tiny-base\",\"method\":\"lora\",\"objective\":\"sft\","
                        + "\"hyperparameters\":{\"learning_rate\":-1}}")
                .put("/api/datasets/{n}/trigger", name)
                .then()
                .statusCode(400)
                .body(org.hamcrest.Matchers.containsString("hyperparameters.learning_rate must be > 0"));
        given().contentType("application/json")
                .body("{\"baseModel\":\"tiny-base\",\"method\":\"lora\",\"objective\":\"sft\","
                        + "\"hyperparameters\":{\"learningRate\":0.1}}")
                .put("/api/datasets/{n}/trigger", name)
                .then()
                .statusCode(400)
                .body(org.hamcrest.Matchers.containsString("did you mean learning_rate?"));
        given().get("/api/datasets/{n}/trigger", name).then().statusCode(404);
    }

    /**
     * A trigger is held to a job's rules when it is set, as far as they do not depend on a version:
     * its settings against its method, and against its base model once that is in the store.
     */
    @Test
    void aTriggerIsCheckedAgainstItsMethodAndItsStoredBaseModelWhenItIsSet() throws Exception {
        String name = DatasetUploadTest.unique("boundtrigger");
        ModelConfig model = ModelConfig.builder(ModelType.LLAMA)
                .vocabSize(256)
                .hiddenSize(64)
                .intermediateSize(128)
                .numHiddenLayers(2)
                .numAttentionHeads(4)
                .numKeyValueHeads(2)
                .maxPositionEmbeddings(512)
                .eosTokenIds(List.of(2))
                .build();
        store.putBytes(
                ObjectKeys.baseModel("bounds-model", ModelConfigJson.FILE_NAME),
                ModelConfigJson.toJson(model, "float32").toString().getBytes(StandardCharsets.UTF_8),
                "application/json");

        refuseTrigger(
                name,
                "tiny-base",
                "full",
                "{\"base_dtype\":\"int8\"}",
                "hyperparameters.base_dtype",
                "hyperparameters.base_dtype int8 cannot be used with method full");
        refuseTrigger(
                name,
                "bounds-model",
                "lora",
                "{\"max_seq_length\":4096}",
                "hyperparameters.max_seq_length",
                "hyperparameters.max_seq_length must be <= the model's max_position_embeddings (512), got 4096");
        refuseTrigger(
                name,
                "bounds-model",
                "lora",
                "{\"max_seq_length\":256,\"lora_r\":128}",
                "hyperparameters.lora_r",
                "hyperparameters.lora_r must be <= min(in, out) of the adapted layers");
        given().get("/api/datasets/{n}/trigger", name).then().statusCode(404);

        given().contentType("application/json")
                .body(trigger("bounds-model", "lora", "{\"max_seq_length\":512,\"lora_r\":32}"))
                .put("/api/datasets/{n}/trigger", name)
                .then()
                .statusCode(200)
                .body("hyperparameters.lora_r", org.hamcrest.Matchers.equalTo(32));
    }

    private static void refuseTrigger(
            String name, String baseModel, String method, String hyperparameters, String field, String message) {
        given().contentType("application/json")
                .body(trigger(baseModel, method, hyperparameters))
                .put("/api/datasets/{n}/trigger", name)
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("field", org.hamcrest.Matchers.equalTo(field))
                .body("detail", org.hamcrest.Matchers.containsString(message));
    }

    private static String trigger(String baseModel, String method, String hyperparameters) {
        return "{\"baseModel\":\"" + baseModel + "\",\"method\":\"" + method + "\",\"objective\":\"sft\","
                + "\"hyperparameters\":" + hyperparameters + "}";
    }

    @Test
    void statisticsCountTokensWithTheNamedBaseModelsTokenizer() throws Exception {
        Path dir = seedTokenizer("stats-model");
        String name = DatasetUploadTest.unique("stats");
        String jsonl = "{\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"},"
                + "{\"role\":\"assistant\",\"content\":\"general kenobi\"}]}\n";
        given().body(jsonl)
                .post("/api/datasets/{n}/versions?tokenizer=stats-model", name)
                .then()
                .statusCode(201);
        JsonPath version = DatasetUploadTest.awaitStatus(name, "1", "prepared");
        String split = version.getLong("manifest.train.examples") == 1
                ? "train"
                : version.getLong("manifest.validation.examples") == 1 ? "validation" : "test";

        JsonPath stats = given().get("/api/datasets/{n}/versions/1/stats", name)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();

        assertThat(stats.getString("tokenizer")).isEqualTo("stats-model tokenizer");
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            // ChatML wraps each turn the same way, so the per-turn estimate is exact here.
            String rendered = tokenizer
                    .chatTemplate()
                    .orElseThrow()
                    .render(
                            List.of(
                                    dev.finetune.llm.tokenizer.ChatMessage.user("hello there"),
                                    dev.finetune.llm.tokenizer.ChatMessage.assistant("general kenobi")),
                            false);
            int expected = tokenizer.encode(rendered, false).length;
            assertThat(stats.getLong("splits." + split + ".tokens")).isEqualTo(expected);
        }
    }

    @Test
    void unknownTokenizerModelRejectsTheVersionNamingTheModel() throws Exception {
        String name = DatasetUploadTest.unique("notok");
        given().body(DatasetUploadTest.alpaca(3))
                .post("/api/datasets/{n}/versions?tokenizer=no-such-model", name)
                .then()
                .statusCode(201);

        JsonPath version = DatasetUploadTest.awaitStatus(name, "1", "rejected");
        assertThat(version.getString("manifest.rejection"))
                .isEqualTo(
                        "base model 'no-such-model' has no tokenizer.json at models/base/no-such-model/tokenizer.json");
        assertThat(EventTopics.read(
                        "datasets.rejected",
                        v -> v.path("datasetName").asText().equals(name),
                        1,
                        Duration.ofSeconds(20)))
                .hasSize(1);
    }

    private Path seedTokenizer(String model) throws Exception {
        Path dir = Files.createTempDirectory("tok");
        TinyTokenizerWriter.write(dir);
        for (String file : List.of("tokenizer.json", "tokenizer_config.json")) {
            store.putFile(ObjectKeys.baseModel(model, file), dir.resolve(file), "application/json");
        }
        return dir;
    }
}
