package dev.finetune.cli.models;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.finetune.cli.CliRun;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code finetune model} against a stand-in registry that records what it was sent and answers as told. */
class ModelCommandTest {
    @TempDir
    Path tmp;

    private HttpServer server;
    private final List<String> requests = new ArrayList<>();
    private final List<String> bodies = new ArrayList<>();
    private int status = 201;
    private String answer;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/base-models", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void importUploadsEveryFileOfTheDirectoryWithTheName() throws Exception {
        Files.writeString(tmp.resolve("config.json"), "{\"model_type\":\"qwen3\"}");
        Files.writeString(tmp.resolve("tokenizer.json"), "{}");
        answer = "{\"alreadyImported\":false,\"model\":{\"name\":\"tiny\",\"architecture\":\"Qwen3ForCausalLM\","
                + "\"parameters\":1234,\"totalBytes\":27,\"sha256\":\"ab12\",\"files\":{\"a\":{},\"b\":{}}}}";

        CliRun run = run("model", "import", tmp.toString(), "--name", "tiny");

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(requests).containsExactly("POST /api/base-models multipart/form-data");
        assertThat(bodies.get(0))
                .contains("name=\"name\"\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\ntiny\r\n")
                .contains("name=\"file\"; filename=\"config.json\"")
                .contains("{\"model_type\":\"qwen3\"}")
                .contains("name=\"file\"; filename=\"tokenizer.json\"");
        assertThat(run.out())
                .contains("imported tiny: Qwen3ForCausalLM, 1234 parameters, 2 files, 27 bytes, sha256 ab12");
    }

    @Test
    void importFromS3SendsTheSourceForTheRegistryToRead() {
        status = 200;
        answer = "{\"alreadyImported\":true,\"model\":{\"name\":\"tiny\",\"files\":{}}}";

        CliRun run = run("model", "import", "s3://models/qwen3/", "--name", "tiny");

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(requests).containsExactly("POST /api/base-models application/json");
        assertThat(bodies.get(0)).contains("\"source\":\"s3://models/qwen3/\"").contains("\"name\":\"tiny\"");
        assertThat(run.out()).startsWith("already imported tiny");
    }

    @Test
    void refusedImportPrintsTheServiceTheCallAndTheReason() throws Exception {
        Files.writeString(tmp.resolve("config.json"), "{}");
        status = 400;
        answer = "{\"type\":\"https://finetune.dev/problems/invalid-input\",\"title\":\"Invalid input\",\"status\":400,"
                + "\"detail\":\"tokenizer.json: missing: a model directory needs tokenizer.json\",\"field\":\"files\"}";

        CliRun run = run("model", "import", tmp.toString(), "--name", "tiny");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err())
                .startsWith("finetune: registry-service POST api/base-models answered 400 Invalid input:")
                .contains("tokenizer.json: missing");
    }

    @Test
    void listShowsEachBaseModel() {
        status = 200;
        answer = "[{\"name\":\"tiny-qwen3\",\"status\":\"imported\",\"architecture\":\"Qwen3ForCausalLM\","
                + "\"parameters\":99,\"totalBytes\":1000,\"sha256\":\"cafe\"},"
                + "{\"name\":\"old\",\"status\":\"seeded\",\"architecture\":null,\"parameters\":null,"
                + "\"totalBytes\":5,\"sha256\":\"beef\"}]";

        CliRun run = run("model", "list");

        assertThat(run.exit()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines.get(0)).contains("NAME", "STATUS", "ARCHITECTURE", "PARAMETERS", "BYTES", "SHA256");
        assertThat(lines.get(1)).contains("tiny-qwen3", "imported", "Qwen3ForCausalLM", "99", "1000", "cafe");
        assertThat(lines.get(2)).contains("old", "seeded", "-", "beef");
    }

    private CliRun run(String... args) {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--registry-url";
        all[args.length + 1] = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
        return CliRun.of(all);
    }

    private void handle(HttpExchange exchange) throws IOException {
        String type = exchange.getRequestHeaders().getFirst("Content-Type");
        requests.add(exchange.getRequestMethod() + " "
                + exchange.getRequestURI().getPath() + (type == null ? "" : " " + type.split(";")[0]));
        bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        byte[] body = answer.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders()
                .add("Content-Type", status >= 400 ? "application/problem+json" : "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }
}
