package dev.finetune.dataset.service;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class DatasetUploadTest {

    @Test
    void alpacaUploadIsStoredPreparedAndAnnounced() throws Exception {
        String name = unique("alpaca");
        JsonPath upload = upload(name, alpaca(40), 201);
        assertThat(upload.getString("version")).isEqualTo("1");
        assertThat(upload.getString("sha256")).hasSize(64);

        JsonPath version = awaitStatus(name, "1", "prepared");
        assertThat(version.getString("manifest.format")).isEqualTo("alpaca");
        assertThat(version.getString("manifest.kind")).isEqualTo("sft");
        assertThat(version.getLong("manifest.train.examples")
                        + version.getLong("manifest.validation.examples")
                        + version.getLong("manifest.test.examples"))
                .isEqualTo(40);

        String train = given().get("/api/datasets/{n}/versions/1/splits/train", name)
                .then()
                .statusCode(200)
                .extract()
                .asString();
        assertThat(train.lines()).allSatisfy(l -> assertThat(l).startsWith("{\"messages\":[{\"role\":\"user\""));

        List<EventTopics.Received> prepared = EventTopics.read(
                "datasets.prepared", v -> v.path("datasetId").asText().equals(name + "@1"), 1, Duration.ofSeconds(20));
        assertThat(prepared).hasSize(1);
        assertThat(prepared.get(0).key()).isEqualTo(name + "@1");
        assertThat(prepared.get(0).headers()).containsEntry("ce_type", "dev.finetune.dataset.prepared.v1");
    }

    @Test
    void everyFormatIsNormalisedToTheCanonicalForm() throws Exception {
        record Case(String format, String line, String kind) {}
        List<Case> cases = List.of(
                new Case(
                        "chat",
                        "{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind\"},"
                                + "{\"role\":\"user\",\"content\":\"Q%d\"},{\"role\":\"assistant\",\"content\":\"A%d\"}]}",
                        "sft"),
                new Case("prompt_completion", "{\"prompt\":\"Q%d\",\"completion\":\"A%d\"}", "sft"),
                new Case(
                        "preference", "{\"prompt\":\"Q%d\",\"chosen\":\"good %d\",\"rejected\":\"bad\"}", "preference"),
                new Case(
                        "preference",
                        "{\"chosen\":[{\"role\":\"user\",\"content\":\"Q%d\"},{\"role\":\"assistant\","
                                + "\"content\":\"good %d\"}],\"rejected\":[{\"role\":\"user\",\"content\":\"Q%1$d\"},"
                                + "{\"role\":\"assistant\",\"content\":\"bad\"}]}",
                        "preference"),
                // Prompts alone (PPO, GRPO), in either format's shape.
                new Case("prompt_completion", "{\"prompt\":\"Q%d\",\"reference\":\"A%d\"}", "prompt"),
                new Case(
                        "chat",
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"Q%d\"}],\"solution\":\"A%d\"}",
                        "prompt"));
        for (Case c : cases) {
            String name = unique(c.format().replace('_', '-'));
            StringBuilder jsonl = new StringBuilder();
            for (int i = 0; i < 12; i++) {
                jsonl.append(String.format(c.line(), i * 7919, i * 104729)).append('\n');
            }
            upload(name, jsonl.toString(), 201);
            JsonPath version = awaitStatus(name, "1", "prepared");
            assertThat(version.getString("manifest.format")).as(c.line()).isEqualTo(c.format());
            assertThat(version.getString("manifest.kind")).as(c.line()).isEqualTo(c.kind());
            String all = split(name, "train") + split(name, "validation") + split(name, "test");
            assertThat(all.lines()).hasSize(12).allSatisfy(l -> assertThat(l)
                    .startsWith(c.kind().equals("sft") ? "{\"messages\":" : "{\"prompt\":[{\"role\":\"user\""));
        }
    }

    @Test
    void malformedLineIsReportedWithItsLineNumberAndDropped() throws Exception {
        String name = unique("badline");
        List<String> lines = new java.util.ArrayList<>(alpaca(40).lines().toList());
        lines.set(16, "{\"instruction\":\"no output here\"}");
        upload(name, String.join("\n", lines), 201);

        JsonPath version = awaitStatus(name, "1", "prepared");
        assertThat(version.getLong("manifest.invalidLines")).isEqualTo(1);
        JsonPath report = given().get("/api/datasets/{n}/versions/1/report", name)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(report.getLong("errors[0].line")).isEqualTo(17);
        assertThat(report.getString("errors[0].field")).isEqualTo("output");
        assertThat(report.getString("errors[0].reason")).isEqualTo("is required");
    }

    @Test
    void datasetOverTheInvalidThresholdIsRejectedAndTheRejectionAnnounced() throws Exception {
        String name = unique("rejected");
        String jsonl = alpaca(10) + "not json\n{\"instruction\":1,\"output\":\"x\"}\n";
        upload(name, jsonl, 201);

        JsonPath version = awaitStatus(name, "1", "rejected");
        assertThat(version.getString("manifest.rejection"))
                .isEqualTo("2 of 12 lines (16.7%) are invalid, more than the 5.0% allowed");
        List<EventTopics.Received> rejected = EventTopics.read(
                "datasets.rejected", v -> v.path("datasetId").asText().equals(name + "@1"), 1, Duration.ofSeconds(20));
        assertThat(rejected).singleElement().satisfies(r -> {
            assertThat(r.value().path("reportKey").asText()).isEqualTo("datasets/prepared/" + name + "/1/report.json");
            assertThat(r.value().path("invalidLines").asLong()).isEqualTo(2);
        });
        given().get("/api/datasets/{n}/versions/1/report", name)
                .then()
                .statusCode(200)
                .body("errors[0].line", equalTo(11))
                .body("errors[0].reason", containsString("invalid JSON"));
    }

    @Test
    void sameBytesUploadedTwiceMakeOneVersion() throws Exception {
        String name = unique("dup");
        String data = alpaca(5);
        upload(name, data, 201);
        JsonPath second = upload(name, data, 200);

        assertThat(second.getBoolean("duplicate")).isTrue();
        assertThat(second.getString("version")).isEqualTo("1");
        assertThat(given().get("/api/datasets/{n}/versions", name)
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getList("ingest.version"))
                .containsExactly("1");
    }

    @Test
    void requestedVersionThatExistsWithOtherBytesIsAConflict() {
        String name = unique("conflict");
        given().body(alpaca(3))
                .post("/api/datasets/{n}/versions?version=2024-06", name)
                .then()
                .statusCode(201);
        given().body(alpaca(4))
                .post("/api/datasets/{n}/versions?version=2024-06", name)
                .then()
                .statusCode(409)
                .contentType("application/problem+json")
                .body("type", equalTo("https://finetune.dev/problems/conflict"))
                .body("instance", equalTo("/api/datasets/" + name + "/versions"))
                .body("detail", containsString("version 2024-06 of dataset '" + name + "' already exists"));
    }

    @Test
    void gzipUploadIsStoredAsIsAndPrepared() throws Exception {
        String name = unique("gzip");
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(alpaca(20).getBytes(StandardCharsets.UTF_8));
        }
        given().body(gz.toByteArray())
                .contentType("application/gzip")
                .post("/api/datasets/{n}/versions", name)
                .then()
                .statusCode(201);

        JsonPath version = awaitStatus(name, "1", "prepared");
        assertThat(version.getString("ingest.rawKey")).endsWith("/1/data.jsonl.gz");
        assertThat(version.getLong("manifest.lines")).isEqualTo(20);
    }

    @Test
    void nearDuplicatesAreRemovedAndCounted() throws Exception {
        String name = unique("neardup");
        String base = "Explain how to rotate the API token of a service account in the admin console, step by step";
        String jsonl =
                alpaca(10) + "{\"instruction\":\"" + base + "\",\"output\":\"Open the console and rotate it.\"}\n"
                        + "{\"instruction\":\"" + base + ".\",\"output\":\"Open the console and rotate it.\"}\n";
        upload(name, jsonl, 201);

        JsonPath version = awaitStatus(name, "1", "prepared");
        assertThat(version.getLong("manifest.nearDuplicates")).isEqualTo(1);
        given().get("/api/datasets/{n}/versions/1/report", name)
                .then()
                .statusCode(200)
                .body("duplicatesListed", equalTo(1))
                .body("duplicates[0].line", equalTo(12))
                .body("duplicates[0].duplicateOf", equalTo(11))
                .body("duplicates[0].kind", equalTo("near"));
    }

    @Test
    void aNewVersionKeepsEveryOldExampleInItsSplit() throws Exception {
        String name = unique("stable");
        upload(name, alpaca(60), 201);
        awaitStatus(name, "1", "prepared");
        upload(name, alpaca(90), 201);
        awaitStatus(name, "2", "prepared");

        for (String split : List.of("train", "validation", "test")) {
            List<String> v1 = split(name, split, "1").lines().toList();
            List<String> v2 = split(name, split, "2").lines().toList();
            assertThat(v2).as(split).containsAll(v1);
        }
    }

    @Test
    void nameThatCouldEscapeItsPrefixIsRefused() {
        given().body(alpaca(1))
                .post("/api/datasets/{n}/versions", "..%2F..%2Fx")
                .then()
                .statusCode(400)
                .body("detail", containsString("dataset name"));
        given().body(alpaca(1))
                .post("/api/datasets/{n}/versions?version=../1", "ok-name")
                .then()
                .statusCode(400)
                .body("type", equalTo("https://finetune.dev/problems/invalid-input"))
                .body("detail", containsString("dataset version"));
    }

    @Test
    void uploadOverTheLimitIsRefusedWith413AndLeavesNothing() {
        String name = unique("big");
        byte[] body = new byte[13 * 1024 * 1024]; // test limit: 12 MiB
        Arrays.fill(body, (byte) 'x');
        given().body(body).post("/api/datasets/{n}/versions", name).then().statusCode(413);
        given().get("/api/datasets/{n}/versions", name).then().statusCode(200).body("size()", equalTo(0));
    }

    static JsonPath upload(String name, String jsonl, int status) {
        return given().body(jsonl.getBytes(StandardCharsets.UTF_8))
                .contentType("application/jsonl")
                .post("/api/datasets/{n}/versions", name)
                .then()
                .statusCode(status)
                .extract()
                .jsonPath();
    }

    static JsonPath awaitStatus(String name, String version, String status) {
        return await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .until(
                        () -> given().get("/api/datasets/{n}/versions/{v}", name, version)
                                .then()
                                .extract()
                                .jsonPath(),
                        json -> status.equals(json.getString("status")));
    }

    static String split(String name, String split) {
        return split(name, split, "1");
    }

    static String split(String name, String split, String version) {
        return given().get("/api/datasets/{n}/versions/{v}/splits/{s}", name, version, split)
                .then()
                .statusCode(200)
                .extract()
                .asString();
    }

    /** Words for synthetic examples: random word sequences are far from near-duplicates of each other. */
    private static final String[] WORDS = ("apple river stone cloud window garden pencil rocket violin desert "
                    + "harbor lantern meadow copper silver engine ladder candle forest island mirror puzzle saddle "
                    + "thunder velvet walnut yellow zebra anchor basket cactus dolphin feather glacier hammer igloo "
                    + "jacket kettle lemon magnet needle orchid parrot quartz ribbon summit tunnel umbrella valley "
                    + "wizard oyster pepper marble canyon falcon bridge cotton")
            .split(" ");

    /** {@code count} alpaca lines; line i is the same in every call, so datasets can grow by appending. */
    static String alpaca(int count) {
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < count; i++) {
            java.util.Random random = new java.util.Random(i);
            StringBuilder question = new StringBuilder("Describe");
            for (int w = 0; w < 10; w++) {
                question.append(' ').append(WORDS[random.nextInt(WORDS.length)]);
            }
            jsonl.append("{\"instruction\":\"")
                    .append(question)
                    .append(" (case ")
                    .append(i)
                    .append(")\",\"output\":\"")
                    .append(WORDS[random.nextInt(WORDS.length)])
                    .append(' ')
                    .append(WORDS[random.nextInt(WORDS.length)])
                    .append(".\"}\n");
        }
        return jsonl.toString();
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
