package dev.finetune.cli.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.finetune.cli.http.ServiceClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads against a stand-in registry that serves what it is told to: good files, bad names, bad bytes. */
class VersionDownloadTest {
    @TempDir
    Path tmp;

    private HttpServer server;
    private final Map<String, byte[]> served = new LinkedHashMap<>();
    private final Map<String, String> recordedSha = new LinkedHashMap<>();

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void everyFileLandsUnderItsNameCheckedAgainstItsSha256() throws Exception {
        file("adapter_config.json", "{\"peft_type\":\"LORA\"}");
        file("merged/config.json", "{}");
        Path out = tmp.resolve("adapter");

        VersionDownload.download(registry(), "m", 1, out, new PrintWriter(new StringWriter()));

        assertThat(out.resolve("adapter_config.json")).hasContent("{\"peft_type\":\"LORA\"}");
        assertThat(out.resolve("merged/config.json")).hasContent("{}");
        try (var files = Files.walk(out)) {
            assertThat(files.filter(p -> p.toString().endsWith(".part"))).isEmpty();
        }
    }

    @Test
    void aFileWhoseBytesDoNotMatchItsRecordedHashIsNotKept() throws Exception {
        file("adapter_model.safetensors", "the real weights");
        served.put("adapter_model.safetensors", "tampered".getBytes(StandardCharsets.UTF_8));
        Path out = tmp.resolve("adapter");

        assertThatThrownBy(() -> VersionDownload.download(registry(), "m", 1, out, new PrintWriter(new StringWriter())))
                .hasMessageStartingWith("adapter_model.safetensors: downloaded SHA-256 ")
                .hasMessageContaining("but the registry recorded " + recordedSha.get("adapter_model.safetensors"));
        try (var files = Files.list(out)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void namesThatLeaveTheDirectoryAreRefusedBeforeAnythingIsWritten() throws Exception {
        file("adapter_config.json", "{}");
        file("../outside.txt", "x");
        Path out = tmp.resolve("adapter");

        assertThatThrownBy(() -> VersionDownload.download(registry(), "m", 1, out, new PrintWriter(new StringWriter())))
                .hasMessageContaining("a file named '../outside.txt', which is not a path inside");
        assertThat(tmp.resolve("outside.txt")).doesNotExist();
        assertThat(out.resolve("adapter_config.json")).doesNotExist();
    }

    @Test
    void theCurrentDirectoryIsAValidTarget() {
        Path root = Path.of("").toAbsolutePath().normalize();
        assertThat(VersionDownload.target(root, "adapter_config.json")).isEqualTo(root.resolve("adapter_config.json"));
        assertThatThrownBy(() -> VersionDownload.target(root, ".")).hasMessageContaining("not a path inside");
        assertThatThrownBy(() -> VersionDownload.target(root, "")).hasMessageContaining("not a path inside");
        assertThatThrownBy(() -> VersionDownload.target(root, "/etc/passwd")).hasMessageContaining("not a path inside");
    }

    private void file(String name, String content) throws Exception {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        served.put(name, bytes);
        recordedSha.put(
                name,
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
    }

    private ServiceClient registry() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String prefix = "/api/models/m/versions/1";
        server.createContext(prefix, exchange -> {
            String path = exchange.getRequestURI().getPath();
            byte[] body;
            if (path.equals(prefix)) {
                body = ("{\"version\":{\"files\":{"
                                + recordedSha.entrySet().stream()
                                        .map(e -> "\"" + e.getKey() + "\":{\"sha256\":\"" + e.getValue() + "\"}")
                                        .collect(Collectors.joining(","))
                                + "}}}")
                        .getBytes(StandardCharsets.UTF_8);
            } else {
                body = served.get(path.substring((prefix + "/files/").length()));
            }
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        server.start();
        return new ServiceClient(
                "registry-service",
                URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"),
                null);
    }
}
