package dev.finetune.cli.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.cli.http.ServiceClient;
import dev.finetune.storage.Digests;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Downloads a registered version's files through the registry (which verifies them before serving)
 * and checks each against the SHA-256 the registry recorded. A file lands under its name only when
 * it matches, by rename from a partial file that is removed on any failure; names that would leave
 * the target directory are refused before anything is written.
 */
final class VersionDownload {
    private VersionDownload() {}

    /** Downloads every file of {@code model} v{@code version} into {@code out}; returns the files written. */
    static List<Path> download(ServiceClient registry, String model, long version, Path out, PrintWriter log) {
        String prefix = "api/models/" + ServiceClient.segment(model) + "/versions/" + version;
        JsonNode files = registry.get(prefix).path("version").path("files");
        if (!files.isObject() || files.isEmpty()) {
            throw new IllegalStateException(model + " v" + version + " lists no files");
        }
        List<String> names = new ArrayList<>();
        files.fieldNames().forEachRemaining(names::add);
        try {
            Path root =
                    Files.createDirectories(out.toAbsolutePath().normalize()).toRealPath();
            List<Path> targets = new ArrayList<>();
            for (String name : names) {
                targets.add(target(root, name));
            }
            List<Path> written = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                String expected = files.path(name).path("sha256").asText();
                written.add(fetch(registry, prefix + "/files/" + escaped(name), root, targets.get(i), expected));
                log.printf("%-28s %10d bytes  sha256 %s%n", name, Files.size(targets.get(i)), expected);
            }
            return written;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write into " + out + ": " + e.getMessage(), e);
        }
    }

    /** Where {@code name} goes under {@code root}, or an error if it would go anywhere else. */
    static Path target(Path root, String name) {
        Path target = root.resolve(name).normalize();
        if (name.isBlank() || Path.of(name).isAbsolute() || target.equals(root) || !target.startsWith(root)) {
            throw new IllegalStateException("the registry lists a file named '" + name
                    + "', which is not a path inside " + root + "; nothing was downloaded");
        }
        return target;
    }

    private static Path fetch(ServiceClient registry, String path, Path root, Path target, String expected)
            throws IOException {
        Path parent = Files.createDirectories(target.getParent());
        if (!parent.toRealPath().startsWith(root)) {
            throw new IllegalStateException(parent + " leads outside " + root + " (a symbolic link?)");
        }
        Path partial = target.resolveSibling(target.getFileName() + ".part");
        try {
            String actual;
            try (InputStream in = registry.stream(path);
                    DigestOutputStream digest =
                            new DigestOutputStream(Files.newOutputStream(partial), Digests.sha256())) {
                in.transferTo(digest);
                actual = Digests.hex(digest.getMessageDigest());
            }
            if (!actual.equals(expected)) {
                throw new IllegalStateException(target.getFileName() + ": downloaded SHA-256 " + actual
                        + " but the registry recorded " + expected);
            }
            return Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    private static String escaped(String name) {
        return Arrays.stream(name.split("/")).map(ServiceClient::segment).collect(Collectors.joining("/"));
    }
}
