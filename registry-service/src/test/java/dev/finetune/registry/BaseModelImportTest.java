package dev.finetune.registry;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.memory.ModelSize;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** {@code POST /api/base-models} verifies a HuggingFace model directory before anything is stored. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class BaseModelImportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String IMPORTS_BUCKET = "model-imports";

    @Inject
    ObjectStore store;

    @Test
    void importedModelIsStoredAndListedWithTheSha256OfEveryFile() throws Exception {
        String name = unique("tiny-qwen3");
        Path dir = model(ModelType.QWEN3, 3);

        JsonPath imported =
                importUpload(name, dir).then().statusCode(201).extract().jsonPath();

        Map<String, String> expected = sha256ByFile(dir);
        String combined = combined(expected);
        assertThat(imported.getBoolean("alreadyImported")).isFalse();
        assertThat(imported.getString("model.sha256")).isEqualTo(combined);

        JsonPath list =
                given().get("/api/base-models").then().statusCode(200).extract().jsonPath();
        Map<String, Object> listed = list.getMap("find { it.name == '" + name + "' }");
        assertThat(listed)
                .containsEntry("status", "imported")
                .containsEntry("modelType", "qwen3")
                .containsEntry("architecture", "Qwen3ForCausalLM")
                .containsEntry("sha256", combined);
        assertThat(((Number) listed.get("parameters")).longValue())
                .isEqualTo(ModelSize.of(TinyModels.config(ModelType.QWEN3)).parameters());
        assertThat(((Number) listed.get("totalBytes")).longValue()).isEqualTo(totalBytes(dir));

        JsonPath detail = given().get("/api/base-models/{n}", name)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(detail.getMap("files").keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        for (Map.Entry<String, String> file : expected.entrySet()) {
            assertThat(detail.getString("files.'" + file.getKey() + "'.sha256"))
                    .as(file.getKey())
                    .isEqualTo(file.getValue());
            try (InputStream in = store.get(ObjectKeys.baseModel(name, file.getKey()))) {
                assertThat(sha256(in.readAllBytes()))
                        .as("stored " + file.getKey())
                        .isEqualTo(file.getValue());
            }
        }
        assertThat(store.exists(ObjectKeys.baseModel(name, ObjectKeys.BASE_MODEL_MANIFEST)))
                .isTrue();
    }

    @Test
    void reimportOfTheSameFilesIsAlreadyImportedAndOtherFilesAreAConflict() throws Exception {
        String name = unique("tiny-llama");
        Path dir = model(ModelType.LLAMA, 5);
        importUpload(name, dir).then().statusCode(201);
        String manifest = new String(
                store.getBytes(ObjectKeys.baseModel(name, ObjectKeys.BASE_MODEL_MANIFEST)), StandardCharsets.UTF_8);

        JsonPath again =
                importUpload(name, dir).then().statusCode(200).extract().jsonPath();
        assertThat(again.getBoolean("alreadyImported")).isTrue();
        assertThat(again.getString("model.sha256")).isEqualTo(combined(sha256ByFile(dir)));
        assertThat(new String(
                        store.getBytes(ObjectKeys.baseModel(name, ObjectKeys.BASE_MODEL_MANIFEST)),
                        StandardCharsets.UTF_8))
                .isEqualTo(manifest);

        String conflict = importUpload(name, model(ModelType.LLAMA, 6))
                .then()
                .statusCode(409)
                .contentType("application/problem+json")
                .extract()
                .jsonPath()
                .getString("detail");
        assertThat(conflict).contains("base model '" + name + "' already exists with other files");
        assertThat(new String(
                        store.getBytes(ObjectKeys.baseModel(name, ObjectKeys.BASE_MODEL_MANIFEST)),
                        StandardCharsets.UTF_8))
                .isEqualTo(manifest);
    }

    /** An import claims the name for its content first: another content's fresh claim is a running import. */
    @Test
    void importOfOtherFilesWaitsForAFreshClaimButTakesOverAnAbandonedOne() throws Exception {
        String name = unique("claimed");
        Path dir = model(ModelType.QWEN2, 14);
        String claimKey = RegistryKeys.baseModelImport(name);
        String otherContent = "0".repeat(64);

        store.putBytes(claimKey, claim(otherContent, Instant.now()), "application/json");
        String busy = importUpload(name, dir)
                .then()
                .statusCode(409)
                .extract()
                .jsonPath()
                .getString("detail");
        assertThat(busy).contains("an import of other files as base model '" + name + "' is under way");
        assertThat(store.list(ObjectKeys.baseModelPrefix(name))).isEmpty();

        store.putBytes(claimKey, claim(otherContent, Instant.now().minus(Duration.ofDays(2))), "application/json");
        importUpload(name, dir).then().statusCode(201);
        assertThat(JSON.readTree(store.getBytes(claimKey)).path("sha256").asText())
                .isEqualTo(combined(sha256ByFile(dir)));
    }

    private static byte[] claim(String sha256, Instant startedAt) throws IOException {
        return JSON.writeValueAsBytes(
                Map.of("sha256", sha256, "startedAt", startedAt.toString(), "importedBy", "someone"));
    }

    @Test
    void truncatedSafetensorsIsRefusedNamingTheFile() throws Exception {
        Path dir = model(ModelType.LLAMA, 7);
        Path weights = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, Arrays.copyOf(bytes, bytes.length - 100));

        JsonPath problem = refused(dir);

        assertThat(problem.getString("file")).isEqualTo("model.safetensors");
        assertThat(problem.getString("detail"))
                .startsWith("model.safetensors: ")
                .contains("truncated");
    }

    @Test
    void safetensorsLongerThanItsHeaderSaysIsRefused() throws Exception {
        Path dir = model(ModelType.LLAMA, 13);
        Files.write(dir.resolve("model.safetensors"), new byte[16], StandardOpenOption.APPEND);

        JsonPath problem = refused(dir);

        assertThat(problem.getString("file")).isEqualTo("model.safetensors");
        assertThat(problem.getString("detail")).contains("16 bytes not indexed by any tensor");
    }

    @Test
    void headerLyingAboutAShapeIsRefusedNamingTheTensor() throws Exception {
        Path dir = model(ModelType.LLAMA, 8);
        String tensor = "model.layers.0.mlp.up_proj.weight"; // [160, 64] in fp32
        rewriteHeader(dir.resolve("model.safetensors"), header -> {
            ArrayNode shape = ((ObjectNode) header.get(tensor)).putArray("shape");
            shape.add(160).add(65);
        });

        JsonPath problem = refused(dir);

        assertThat(problem.getString("file")).isEqualTo("model.safetensors");
        assertThat(problem.getString("item")).isEqualTo(tensor);
        assertThat(problem.getString("detail")).contains(tensor).contains("data_offsets");
    }

    @Test
    void tensorOfTheWrongShapeForTheConfigIsRefused() throws Exception {
        Path dir = model(ModelType.LLAMA, 9);
        String tensor = "model.layers.1.mlp.up_proj.weight"; // [160, 64]: same bytes as [64, 160]
        rewriteHeader(dir.resolve("model.safetensors"), header -> {
            ArrayNode shape = ((ObjectNode) header.get(tensor)).putArray("shape");
            shape.add(64).add(160);
        });

        JsonPath problem = refused(dir);

        assertThat(problem.getString("item")).isEqualTo(tensor);
        assertThat(problem.getString("detail")).contains("[64, 160]").contains("expected shape [160, 64]");
    }

    @Test
    void missingTokenizerIsRefusedNamingTheFile() throws Exception {
        Path dir = model(ModelType.LLAMA, 10);
        Files.delete(dir.resolve("tokenizer.json"));

        JsonPath problem = refused(dir);

        assertThat(problem.getString("file")).isEqualTo("tokenizer.json");
        assertThat(problem.getString("detail")).startsWith("tokenizer.json").contains("missing");
    }

    @Test
    void unsupportedModelTypeIsRefusedNamingTheField() throws Exception {
        Path dir = model(ModelType.LLAMA, 11);
        Path config = dir.resolve("config.json");
        ObjectNode json = (ObjectNode) JSON.readTree(config.toFile());
        json.put("model_type", "gpt2");
        JSON.writeValue(config.toFile(), json);

        JsonPath problem = refused(dir);

        assertThat(problem.getString("file")).isEqualTo("config.json");
        assertThat(problem.getString("item")).isEqualTo("model_type");
        assertThat(problem.getString("detail")).contains("'gpt2'").contains("llama, mistral, qwen2, qwen3");
    }

    @Test
    void importFromAnAllowedObjectStorePrefix() throws Exception {
        String name = unique("tiny-mistral");
        Path dir = model(ModelType.MISTRAL, 12);
        String prefix = "incoming/" + UUID.randomUUID() + "/";
        try (ObjectStore imports = importsBucket();
                Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                imports.putFile(prefix + file.getFileName(), file, "application/octet-stream");
            }
        }

        JsonPath imported = given().contentType(ContentType.JSON)
                .body(Map.of("name", name, "source", "s3://" + IMPORTS_BUCKET + "/" + prefix))
                .post("/api/base-models")
                .then()
                .statusCode(201)
                .extract()
                .jsonPath();

        assertThat(imported.getString("model.sha256")).isEqualTo(combined(sha256ByFile(dir)));
        assertThat(imported.getString("model.source")).isEqualTo("s3://" + IMPORTS_BUCKET + "/" + prefix);
        assertThat(imported.getString("model.architecture")).isEqualTo("MistralForCausalLM");
    }

    @Test
    void importFromOutsideTheAllowedSourcesIsRefusedBeforeAnythingIsRead() throws Exception {
        Path dir = model(ModelType.QWEN3, 13);
        String prefix = "private/" + UUID.randomUUID() + "/";
        try (ObjectStore imports = importsBucket();
                Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                imports.putFile(prefix + file.getFileName(), file, "application/octet-stream");
                store.putFile(prefix + file.getFileName(), file, "application/octet-stream");
            }
        }

        String notAllowed = "s3://" + IMPORTS_BUCKET + "/" + prefix;
        String name = unique("not-allowed");
        given().contentType(ContentType.JSON)
                .body(Map.of("name", name, "source", notAllowed))
                .post("/api/base-models")
                .then()
                .statusCode(400)
                .body("field", equalTo("source"))
                .body(
                        "detail",
                        equalTo(notAllowed + " is not in an allowed source location for base models (allowed:"
                                + " [model-imports/incoming/]; set pipeline.registry.base-models.allowed-sources)"));
        given().contentType(ContentType.JSON)
                .body(Map.of("name", name, "source", "s3://" + store.bucket() + "/" + prefix))
                .post("/api/base-models")
                .then()
                .statusCode(400)
                .body("detail", endsWith("is in the pipeline's own bucket, which is never a source of base models"));
        given().get("/api/base-models/{n}", name).then().statusCode(404);
    }

    /** The bucket the test profile allows imports from (under incoming/), as an operator would fill it. */
    private static ObjectStore importsBucket() {
        var config = ConfigProvider.getConfig();
        ObjectStore imports = new ObjectStore(ObjectStoreConfig.of(
                config.getValue("pipeline.object-store.endpoint", String.class),
                config.getValue("pipeline.object-store.access-key", String.class),
                config.getValue("pipeline.object-store.secret-key", String.class),
                IMPORTS_BUCKET));
        imports.ensureBucket();
        return imports;
    }

    @Test
    void unknownFieldOfAnImportRequestIsRefused() {
        given().contentType(ContentType.JSON)
                .body(Map.of("name", "x", "source", "s3://bucket/x/", "revision", "main"))
                .post("/api/base-models")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("type", endsWith("/unknown-field"))
                .body("field", equalTo("revision"));
    }

    @Test
    void seededBaseModelIsListedWithItsFingerprint() throws Exception {
        Path seeded = Pipeline.base(store); // placed under models/base/tiny-llama/ directly, no manifest

        JsonPath list =
                given().get("/api/base-models").then().statusCode(200).extract().jsonPath();
        Map<String, Object> listed = list.getMap("find { it.name == '" + Pipeline.BASE_MODEL + "' }");

        assertThat(listed)
                .containsEntry("status", "seeded")
                .containsEntry("architecture", "LlamaForCausalLM")
                .containsEntry("sha256", combined(sha256ByFile(seeded)));
    }

    @Test
    void unknownBaseModelIsNotFoundWithTheKnownOnes() throws Exception {
        Pipeline.base(store);
        String detail = given().get("/api/base-models/{n}", "no-such-model")
                .then()
                .statusCode(404)
                .extract()
                .jsonPath()
                .getString("detail");
        assertThat(detail).contains("no base model 'no-such-model'").contains(Pipeline.BASE_MODEL);
    }

    /** Refused with 400, and nothing of the model was stored. */
    private JsonPath refused(Path dir) throws IOException {
        String name = unique("refused");
        JsonPath problem = importUpload(name, dir)
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .extract()
                .jsonPath();
        assertThat(store.list(ObjectKeys.baseModelPrefix(name))).isEmpty();
        return problem;
    }

    private static Response importUpload(String name, Path dir) throws IOException {
        RequestSpecification request = given().multiPart("name", name);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                request = request.multiPart("file", file.toFile(), "application/octet-stream");
            }
        }
        return request.post("/api/base-models");
    }

    /** A tiny model of the family with the tiny tokenizer, in HuggingFace layout. */
    private static Path model(ModelType type, long seed) throws IOException {
        Path dir = Pipeline.scratch("base-model-import-");
        TinyModelGenerator.write(TinyModels.config(type), seed, dir);
        TinyTokenizerWriter.write(dir);
        return dir;
    }

    private interface HeaderEdit {
        void apply(ObjectNode header);
    }

    /** Rewrites a safetensors file's JSON header, keeping its data bytes as they are. */
    private static void rewriteHeader(Path file, HeaderEdit edit) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int headerLength = (int)
                ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode header = (ObjectNode) JSON.readTree(new String(bytes, 8, headerLength, StandardCharsets.UTF_8));
        edit.apply(header);
        byte[] newHeader = JSON.writeValueAsBytes(header);
        ByteBuffer out = ByteBuffer.allocate(8 + newHeader.length + bytes.length - 8 - headerLength)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(newHeader.length).put(newHeader).put(bytes, 8 + headerLength, bytes.length - 8 - headerLength);
        Files.write(file, out.array());
    }

    /** Each file's SHA-256, computed here with the JDK, not with the service's code. */
    private static Map<String, String> sha256ByFile(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> listing = Files.list(dir)) {
            for (Path file : listing.toList()) {
                files.put(file.getFileName().toString(), sha256(Files.readAllBytes(file)));
            }
        }
        return files;
    }

    /** The SHA-256 of the {@code sha256sum} output of the files in name order. */
    private static String combined(Map<String, String> files) {
        StringBuilder lines = new StringBuilder();
        files.forEach((name, sha) -> lines.append(sha).append("  ").append(name).append('\n'));
        return sha256(lines.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static long totalBytes(Path dir) throws IOException {
        try (Stream<Path> listing = Files.list(dir)) {
            long total = 0;
            for (Path file : listing.toList()) {
                total += Files.size(file);
            }
            return total;
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
