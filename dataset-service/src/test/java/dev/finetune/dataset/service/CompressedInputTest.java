package dev.finetune.dataset.service;

import static dev.finetune.dataset.service.DatasetUploadTest.alpaca;
import static dev.finetune.dataset.service.DatasetUploadTest.unique;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.finetune.localstack.LocalStackTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/** gzip uploads are bounded: a bomb is refused while it arrives, a broken archive is rejected with the reason. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class CompressedInputTest {

    @Test
    void gzipBombIsRefusedAtOnceNamingTheLimit() throws Exception {
        byte[] bomb = gzipOfZeros(1L << 30); // ~1 MB that expands to 1 GiB
        assertThat(bomb.length).isBetween(900_000, 1_200_000);
        String name = unique("bomb");

        long start = System.nanoTime();
        Response answer = given().body(bomb)
                .contentType("application/gzip")
                .post("/api/datasets/{n}/versions", name)
                .then()
                .extract()
                .response();
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertThat(answer.statusCode()).isEqualTo(413);
        assertThat(answer.contentType()).startsWith("application/problem+json");
        assertThat(answer.jsonPath().getString("detail"))
                .contains("pipeline.dataset.max-compression-ratio (100)")
                .doesNotContain("JSON");
        // Inflating the whole GiB took ~100 s before the limits; on a quiet machine the refusal comes
        // in well under a second (it stops after the first MiB). The bound leaves room for a loaded
        // 2-core CI machine: a wall-clock assertion this tight failed once at 1001 ms under load.
        assertThat(millis).as("answered after %d ms", millis).isLessThan(10_000);
        given().get("/api/datasets/{n}/versions", name).then().statusCode(200).body("size()", equalTo(0));
    }

    @Test
    void gzipExpandingPastTheSizeLimitIsRefusedNamingIt() throws Exception {
        // Numbered lines compress ~10-20x: under the ratio limit, under the 12 MiB upload limit, and
        // 80 MB of them are past the test profile's 64 MiB decompressed limit.
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            long written = 0;
            for (int i = 0; written < 80_000_000; i++) {
                byte[] line = ("{\"instruction\":\"Describe item " + i + " of the catalogue\",\"output\":\"It is item "
                                + i + ".\"}\n")
                        .getBytes(StandardCharsets.UTF_8);
                out.write(line);
                written += line.length;
            }
        }
        assertThat(gz.size()).isLessThan(12 << 20);
        given().body(gz.toByteArray())
                .contentType("application/gzip")
                .post("/api/datasets/{n}/versions", unique("huge"))
                .then()
                .statusCode(413)
                .body("detail", containsString("more than 67108864 bytes"))
                .body("detail", containsString("pipeline.dataset.max-decompressed-bytes (67108864)"));
    }

    @Test
    void truncatedGzipEndsTheVersionRejectedWithTheReason() throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(alpaca(200).getBytes(StandardCharsets.UTF_8));
        }
        byte[] truncated = Arrays.copyOf(gz.toByteArray(), gz.size() / 2);
        String name = unique("truncated");
        given().body(truncated)
                .contentType("application/gzip")
                .post("/api/datasets/{n}/versions", name)
                .then()
                .statusCode(201);

        JsonPath version = DatasetUploadTest.awaitStatus(name, "1", "rejected");
        assertThat(version.getString("manifest.rejection"))
                .startsWith("the gzip data is corrupt or truncated at line ")
                .contains("Unexpected end of ZLIB input stream");
        given().get("/api/datasets/{n}/versions/1/report", name)
                .then()
                .statusCode(200)
                .body("rejection", equalTo(version.getString("manifest.rejection")));
    }

    private static byte[] gzipOfZeros(long size) throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        byte[] zeros = new byte[1 << 20];
        try (GZIPOutputStream out = new GZIPOutputStream(gz, 1 << 16)) {
            for (long written = 0; written < size; written += zeros.length) {
                out.write(zeros);
            }
        }
        return gz.toByteArray();
    }
}
