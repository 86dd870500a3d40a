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
    void errorAnswerThatIsNotProblemDetailsNamesTheServiceTheCallAndTheRawBody() throws Exception {
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
    void problemDetailsArePrintedAsTitleDetailAndField() throws Exception {
        String problem = "{\"type\":\"https://finetune.dev/problems/invalid-input\",\"title\":\"Invalid input\","
                + "\"status\":400,\"detail\":\"hyperparameters.learning_rate must be positive, got -1.0\","
                + "\"instance\":\"/api/jobs\",\"field\":\"hyperparameters.learning_rate\"}";
        HttpServer server = answering(400, "application/problem+json", problem);
        try {
            ServiceClient client = new ServiceClient("training-service", base(server), null);
            assertThatThrownBy(() -> client.post("api/jobs", Map.of()))
                    .isInstanceOfSatisfying(ApiException.class, e -> {
                        assertThat(e.field()).contains("hyperparameters.learning_rate");
                        assertThat(e.type()).contains("https://finetune.dev/problems/invalid-input");
                    })
                    .hasMessage("training-service POST api/jobs answered 400 Invalid input: "
                            + "hyperparameters.learning_rate must be positive, got -1.0"
                            + " (field hyperparameters.learning_rate)");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void anInternalErrorIsPrintedWithItsErrorIdAndAProblemWithoutFieldWithoutOne() throws Exception {
        String problem = "{\"type\":\"https://finetune.dev/problems/internal-error\",\"title\":\"Internal error\","
                + "\"status\":500,\"detail\":\"internal error, id 0123456789abcdef\",\"instance\":\"/api/models\","
                + "\"errorId\":\"0123456789abcdef\"}";
        HttpServer server = answering(500, "application/problem+json", problem);
        try {
            ServiceClient client = new ServiceClient("registry-service", base(server), null);
            assertThatThrownBy(() -> client.get("api/models"))
                    .isInstanceOfSatisfying(
                            ApiException.class, e -> assertThat(e.errorId()).contains("0123456789abcdef"))
                    .hasMessage("registry-service GET api/models answered 500 Internal error: "
                            + "internal error, id 0123456789abcdef");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aBodyThatIsNotProblemDetailsIsPrintedAsItIs() throws Exception {
        HttpServer server = answering(502, "text/html", "<html>Bad Gateway</html>");
        try {
            ServiceClient client = new ServiceClient("eval-service", base(server), null);
            assertThatThrownBy(() -> client.get("api/evaluations"))
                    .isInstanceOfSatisfying(
                            ApiException.class, e -> assertThat(e.field()).isEmpty())
                    .hasMessage("eval-service GET api/evaluations answered 502: <html>Bad Gateway</html>");
        } finally {
            server.stop(0);
        }
    }

    private static HttpServer answering(int status, String contentType, String body) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        return server;
    }

    private static URI base(HttpServer server) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
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
