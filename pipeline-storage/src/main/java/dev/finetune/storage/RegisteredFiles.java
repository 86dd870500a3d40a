package dev.finetune.storage;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The files of a registered version as its manifest records them ({@code files: {name: {size,
 * sha256}}}, written by the registry-service last, after every file), and downloads checked against
 * that record: a reader never uses a registered file that is not what the registry stored.
 */
public final class RegisteredFiles {
    private RegisteredFiles() {}

    /**
     * What the manifest records for one file.
     *
     * @param size bytes, -1 if the manifest records none
     * @param sha256 lower-case hex, empty if the manifest records none
     */
    public record Recorded(long size, String sha256) {
        /** The record for {@code name} in {@code manifest}; one that matches no file if it is missing. */
        public static Recorded of(JsonNode manifest, String name) {
            JsonNode digest = manifest.path("files").path(name);
            return new Recorded(
                    digest.path("size").asLong(-1), digest.path("sha256").asText(""));
        }

        /** What {@code file} holds: its size and SHA-256, hashed once. */
        public static Recorded of(Path file) throws IOException {
            return new Recorded(Files.size(file), Digests.of(file));
        }

        /** What {@code bytes} are: their length and SHA-256, hashed once. */
        public static Recorded of(byte[] bytes) {
            return new Recorded(bytes.length, Digests.of(bytes));
        }

        /** Whether {@code file} is what this records; a file of another size is not hashed. */
        public boolean matches(Path file) throws IOException {
            return Files.size(file) == size && Digests.of(file).equals(sha256);
        }

        /** "N bytes with SHA-256 H", as refusals name what was recorded and what was found. */
        public String describe() {
            return (size < 0 ? "no" : Long.toString(size)) + " bytes with SHA-256 "
                    + (sha256.isEmpty() ? "none" : sha256);
        }
    }

    /** Every file the manifest records, by name in name order. */
    public static Map<String, Recorded> of(JsonNode manifest) {
        Map<String, Recorded> files = new TreeMap<>();
        manifest.path("files").fieldNames().forEachRemaining(name -> files.put(name, Recorded.of(manifest, name)));
        return files;
    }

    /**
     * Downloads {@code key} to {@code file} unless a file there already matches {@code recorded}, and
     * checks what arrived.
     *
     * @return empty when {@code file} now matches; else what was found (size and SHA-256), the file
     *     deleted
     */
    public static Optional<String> download(ObjectStore store, String key, Recorded recorded, Path file)
            throws IOException {
        if (Files.exists(file) && recorded.matches(file)) {
            return Optional.empty();
        }
        store.download(key, file);
        Recorded found = Recorded.of(file);
        if (found.equals(recorded)) {
            return Optional.empty();
        }
        Files.delete(file);
        return Optional.of(found.describe());
    }
}
