package dev.finetune.cli.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.cli.http.ApiCommand;
import dev.finetune.cli.http.ServiceClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code finetune registry ...}: registered models, their versions, aliases and downloads. */
@Command(name = "registry", mixinStandardHelpOptions = true, header = "List, promote and download registered adapters.")
public final class RegistryCommand extends ApiCommand {

    @Command(name = "models", header = "Lists registered models with their latest version and aliases.")
    void models() {
        for (JsonNode m : services().registry().get("api/models")) {
            out().printf(
                            "%-40s latest %-4s aliases %s%n",
                            m.path("model").asText(m.path("name").asText()),
                            m.path("latestVersion").asText(),
                            m.path("aliases"));
        }
    }

    @Command(name = "versions", header = "Lists a model's available versions with metrics and aliases.")
    void versions(@Parameters(paramLabel = "MODEL") String model) {
        for (JsonNode v : services().registry().get("api/models/" + ServiceClient.segment(model) + "/versions")) {
            out().printf(
                            "v%-4d %-10s %-8s eval %-13s eval_loss %-8s job %s aliases %s%n",
                            v.path("version").asLong(),
                            v.path("status").asText(),
                            v.path("kind").asText(),
                            v.path("evaluationStatus").asText(),
                            v.path("metrics").has("eval_loss")
                                    ? String.format(
                                            "%.4f",
                                            v.path("metrics").path("eval_loss").asDouble())
                                    : "-",
                            v.path("jobId").asText(),
                            v.path("aliases"));
        }
    }

    @Command(
            name = "promote",
            header = "Points an alias (default production) at a version, subject to the model's promotion policy.")
    void promote(
            @Parameters(paramLabel = "MODEL") String model,
            @Parameters(paramLabel = "VERSION") long version,
            @Option(names = "--alias", defaultValue = "production", paramLabel = "ALIAS") String alias,
            @Option(
                            names = "--expected-version",
                            paramLabel = "N",
                            description = "Refuse unless the alias is at N now (0: unset).")
                    Long expectedVersion,
            @Option(names = "--reason", paramLabel = "TEXT") String reason) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("version", version);
        if (expectedVersion != null) {
            body.put("expectedVersion", expectedVersion);
        }
        if (reason != null) {
            body.put("reason", reason);
        }
        JsonNode moved = services()
                .registry()
                .put("api/models/" + ServiceClient.segment(model) + "/aliases/" + ServiceClient.segment(alias), body);
        out().println(model + " " + alias + " -> v" + moved.path("version").asLong());
    }

    @Command(
            name = "download",
            header = "Downloads a version's files into a directory, each checked against its SHA-256.")
    void download(
            @Parameters(paramLabel = "MODEL") String model,
            @Parameters(paramLabel = "VERSION") long version,
            @Option(names = "--out", required = true, paramLabel = "DIR") Path out)
            throws IOException {
        ServiceClient registry = services().registry();
        String prefix = "api/models/" + ServiceClient.segment(model) + "/versions/" + version;
        JsonNode view = registry.get(prefix);
        JsonNode files = view.path("version").path("files");
        if (!files.isObject() || files.isEmpty()) {
            throw new IllegalStateException(model + " v" + version + " lists no files");
        }
        Files.createDirectories(out);
        List<String> names = new ArrayList<>();
        files.fieldNames().forEachRemaining(names::add);
        for (String name : names) {
            String expected = files.path(name).path("sha256").asText();
            Path target = out.resolve(name).normalize();
            if (!target.startsWith(out.normalize())) {
                throw new IllegalStateException("refusing file name '" + name + "' outside " + out);
            }
            Files.createDirectories(target.getParent());
            Path partial = target.resolveSibling(target.getFileName() + ".part");
            String actual;
            try (InputStream in = registry.stream(prefix + "/files/" + name);
                    DigestOutputStream digest = new DigestOutputStream(Files.newOutputStream(partial), sha256())) {
                in.transferTo(digest);
                digest.flush();
                actual = HexFormat.of().formatHex(digest.getMessageDigest().digest());
            }
            if (!actual.equals(expected)) {
                Files.deleteIfExists(partial);
                throw new IllegalStateException(
                        name + ": downloaded SHA-256 " + actual + " but the registry recorded " + expected);
            }
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            out().printf("%-28s %10d bytes  sha256 %s%n", name, Files.size(target), actual);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
