package dev.finetune.cli.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ServiceClientTest {
    @Test
    void errorAnswerNamesTheServiceTheCallAndTheServicesReason() throws Exception {
        AtomicReference<String> authorization = new AtomicReference<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/jobs", exchange -> {
            authorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] body = "{\"error\":\"hyperparameters.learningRate must be positive, got -1.0\"}"
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(400, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            ServiceClient client = new ServiceClient(
                    "training-service",
                    URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"),
                    "a-token-of-24-characters");
            assertThatThrownBy(() -> client.post("api/jobs", Map.of("hyperparameters", Map.of("learningRate", -1))))
                    .isInstanceOfSatisfying(
                            ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
                    .hasMessage("training-service POST api/jobs answered 400: "
                            + "{\"error\":\"hyperparameters.learningRate must be positive, got -1.0\"}");
            assertThat(authorization.get()).isEqualTo("Bearer a-token-of-24-characters");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aServiceThatIsNotRunningIsNamedWithItsAddress() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        ServiceClient client =
                new ServiceClient("registry-service", URI.create("http://127.0.0.1:" + port + "/"), null);
        assertThatThrownBy(() -> client.get("api/models"))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessage(
                        "registry-service at http://127.0.0.1:" + port + "/ is unreachable (nothing answers there)");
    }
}
