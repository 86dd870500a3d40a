package dev.finetune.dataset.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.contracts.PreparedManifest;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.PreparedManifests;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The dataset catalogue, kept in the object store next to the data it describes (no database to
 * run): versions are {@code ingest.json} files, their outcome {@code manifest.json}, plus two small
 * indexes (content hash and submission event id to version) that make ingestion idempotent.
 */
@ApplicationScoped
public class DatasetCatalog {
    private static final String JSON_TYPE = "application/json";

    private final ObjectStore store;
    private final ObjectMapper json;

    DatasetCatalog(ObjectStore store, ObjectMapper json) {
        this.store = store;
        this.json = json;
    }

    /** Dataset names that have at least one version, sorted. */
    public List<String> datasets() {
        return store.listChildren("datasets/raw/").stream().sorted().toList();
    }

    /** Versions of a dataset with their ingest records, oldest first (numeric versions in number order). */
    public List<IngestRecord> versions(String dataset) {
        List<IngestRecord> records = new ArrayList<>();
        String prefix = ObjectKeys.rawDatasetPrefix(dataset, "x").replace("/x/", "/");
        for (String child : store.listChildren(prefix)) {
            if (child.startsWith("_")) {
                continue;
            }
            ingestRecord(dataset, child).ifPresent(records::add);
        }
        records.sort(
                Comparator.comparing((IngestRecord r) -> numeric(r.version())).thenComparing(IngestRecord::version));
        return records;
    }

    public Optional<IngestRecord> ingestRecord(String dataset, String version) {
        return read(ObjectKeys.rawDataset(dataset, version, "ingest.json"), IngestRecord.class);
    }

    public Optional<PreparedManifest> manifest(String dataset, String version) {
        return read(PreparedManifests.key(dataset, version), PreparedManifest.class);
    }

    /** The version already holding bytes with this SHA-256, if any. */
    public Optional<String> versionBySha256(String dataset, String sha256) {
        return read(ObjectKeys.rawBySha256(dataset, sha256), VersionRef.class).map(VersionRef::version);
    }

    /** The version a submission event created, if any (by the hash of its CloudEvents id). */
    public Optional<String> versionByEvent(String dataset, String eventIdSha256) {
        return read(ObjectKeys.rawByEvent(dataset, eventIdSha256), VersionRef.class)
                .map(VersionRef::version);
    }

    /** Claims a version by creating its ingest record; false if the version exists already. */
    public boolean claim(IngestRecord record) {
        return store.putIfAbsent(
                        ObjectKeys.rawDataset(record.name(), record.version(), "ingest.json"), bytes(record), JSON_TYPE)
                .isPresent();
    }

    public void indexSha256(String dataset, String sha256, String version) {
        store.putIfAbsent(ObjectKeys.rawBySha256(dataset, sha256), bytes(new VersionRef(version)), JSON_TYPE);
    }

    public void indexEvent(String dataset, String eventIdSha256, String version) {
        store.putIfAbsent(ObjectKeys.rawByEvent(dataset, eventIdSha256), bytes(new VersionRef(version)), JSON_TYPE);
    }

    /** The next free numeric version: one more than the highest numeric version so far. */
    public long nextNumericVersion(String dataset) {
        return versions(dataset).stream()
                        .mapToLong(r -> numeric(r.version()))
                        .filter(v -> v < Long.MAX_VALUE)
                        .max()
                        .orElse(0)
                + 1;
    }

    /** Writes the manifest: the last file of a prepared version, its completion marker. */
    public void writeManifest(String dataset, String version, PreparedManifest manifest) {
        store.putBytes(PreparedManifests.key(dataset, version), bytes(manifest), JSON_TYPE);
    }

    public byte[] bytes(Object value) {
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(
                    "cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    public <T> Optional<T> read(String key, Class<T> type) {
        byte[] data;
        try {
            data = store.getBytes(key);
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        }
        try {
            return Optional.of(json.readValue(data, type));
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt catalogue file " + key + ": " + e.getMessage(), e);
        }
    }

    private static long numeric(String version) {
        return version.matches("[0-9]{1,18}") ? Long.parseLong(version) : Long.MAX_VALUE;
    }

    /** An index entry pointing at a version. */
    record VersionRef(String version) {}
}
