package dev.finetune.cli.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.finetune.cli.CliRun;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code finetune registry versions} against a stand-in registry answering what the real one sends. */
class RegistryCommandTest {
    private HttpServer server;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/models/support-bot/versions", exchange -> {
            byte[] body =
                    ("[{\"version\":1,\"status\":\"available\",\"kind\":\"adapter\",\"evaluationStatus\":\"passed\","
                                    + "\"metrics\":{\"eval_loss\":0.5},\"jobId\":\"job-1\",\"parent\":null,\"aliases\":[]},"
                                    + "{\"version\":2,\"status\":\"available\",\"kind\":\"adapter\",\"evaluationStatus\":\"passed\","
                                    + "\"metrics\":{\"eval_loss\":0.25},\"jobId\":\"job-2\","
                                    + "\"parent\":{\"model\":\"support-bot\",\"version\":1},"
                                    + "\"rewardModel\":{\"model\":\"judge\",\"version\":4},\"aliases\":[\"production\"]}]")
                            .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void versionsShowWhichVersionAContinuedTrainingStartedFrom() {
        CliRun run = CliRun.of(
                "registry",
                "versions",
                "support-bot",
                "--registry-url",
                "http://127.0.0.1:" + server.getAddress().getPort() + "/");

        assertThat(run.exit()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0))
                .startsWith("v1 ")
                .contains("eval_loss 0.5000", "job job-1 parent - reward_model - aliases []");
        assertThat(lines.get(1))
                .startsWith("v2 ")
                .contains(
                        "eval_loss 0.2500",
                        "job job-2 parent support-bot@v1 reward_model judge@v4 aliases [\"production\"]");
    }
}
