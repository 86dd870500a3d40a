package dev.finetune.dataset.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.contracts.PreparedManifest;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.PreparedManifests;
import dev.finetune.storage.StoredObject;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The dataset catalogue, kept in the object store next to the data it describes (no database to
 * run): versions are {@code ingest.json} files, their outcome {@code manifest.json}, plus the
 * content claims ({@link ContentClaim}, one per content hash) and an index of submission event ids
 * that make ingestion idempotent.
 *
 * <p>Claims are conditional writes (S3 {@code If-None-Match} / {@code If-Match}); between instances
 * the store decides who wins. Within this instance they are also serialised per key, because some
 * S3 servers check the condition and write without a lock (the local stack's s3proxy lets
 * concurrent conditional writers of one key all succeed), and one instance must never depend on
 * that.
 */
@ApplicationScoped
public class DatasetCatalog {
    private static final String JSON_TYPE = "application/json";

    /** Striped locks by key: bounded memory, and unrelated keys rarely wait for each other. */
    private final Object[] keyLocks = new Object[64];

    private final ObjectStore store;
    private final ObjectMapper json;

    DatasetCatalog(ObjectStore store, ObjectMapper json) {
        this.store = store;
        this.json = json;
        for (int i = 0; i < keyLocks.length; i++) {
            keyLocks[i] = new Object();
        }
    }

    /**
     * A value read with the ETag it had; the ETag is read first, so a stale value is never written
     * back over a newer one by a {@code putIfMatch} with it.
     */
    public record Tagged<T>(T value, String etag) {}

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

    /**
     * Whether the version's outcome ({@code prepared} or {@code rejected}) was published and
     * acknowledged: {@code announced.json} is written after the broker's acknowledgement, so a
     * redelivered event of an announced version need not publish it again.
     */
    public boolean announced(String dataset, String version) {
        return store.exists(announcementKey(dataset, version));
    }

    public void markAnnounced(String dataset, String version, Announcement announcement) {
        store.putBytes(announcementKey(dataset, version), bytes(announcement), JSON_TYPE);
    }

    private static String announcementKey(String dataset, String version) {
        return ObjectKeys.preparedDataset(dataset, version, "announced.json");
    }

    /** The claim on bytes with this SHA-256, with its ETag, if any upload has claimed them. */
    public Optional<Tagged<ContentClaim>> contentClaim(String dataset, String sha256) {
        String key = ObjectKeys.rawBySha256(dataset, sha256);
        Optional<String> etag = store.stat(key).map(ObjectInfo::etag);
        if (etag.isEmpty()) {
            return Optional.empty();
        }
        return read(key, ContentClaim.class).map(claim -> new Tagged<>(claim, etag.get()));
    }

    /** Creates the claim if no upload has claimed these bytes; its ETag, or empty if one had. */
    public Optional<String> createContentClaim(String dataset, String sha256, ContentClaim claim) {
        String key = ObjectKeys.rawBySha256(dataset, sha256);
        synchronized (lockOf(key)) {
            return store.putIfAbsent(key, bytes(claim), JSON_TYPE).map(StoredObject::etag);
        }
    }

    /** Replaces the claim if its ETag is still {@code etag}; the new ETag, or empty if it changed. */
    public Optional<String> replaceContentClaim(String dataset, String sha256, ContentClaim claim, String etag) {
        String key = ObjectKeys.rawBySha256(dataset, sha256);
        synchronized (lockOf(key)) {
            return store.putIfMatch(key, bytes(claim), JSON_TYPE, etag).map(StoredObject::etag);
        }
    }

    /** Gives up a claim this upload holds (it could not make a version), so the bytes can be sent again. */
    public void releaseContentClaim(String dataset, String sha256) {
        store.delete(ObjectKeys.rawBySha256(dataset, sha256));
    }

    /** The version a submission event created, if any (by the hash of its CloudEvents id). */
    public Optional<String> versionByEvent(String dataset, String eventIdSha256) {
        return read(ObjectKeys.rawByEvent(dataset, eventIdSha256), VersionRef.class)
                .map(VersionRef::version);
    }

    /** Claims a version by creating its ingest record; false if the version exists already. */
    public boolean claim(IngestRecord record) {
        String key = ObjectKeys.rawDataset(record.name(), record.version(), "ingest.json");
        synchronized (lockOf(key)) {
            return store.putIfAbsent(key, bytes(record), JSON_TYPE).isPresent();
        }
    }

    public void indexEvent(String dataset, String eventIdSha256, String version) {
        store.putIfAbsent(ObjectKeys.rawByEvent(dataset, eventIdSha256), bytes(new VersionRef(version)), JSON_TYPE);
    }

    /**
     * The next free numeric version: one more than the highest numeric version so far. A version's
     * folder appears with its ingest record (its first object), so the listing is enough.
     */
    public long nextNumericVersion(String dataset) {
        String prefix = ObjectKeys.rawDatasetPrefix(dataset, "x").replace("/x/", "/");
        return store.listChildren(prefix).stream()
                        .mapToLong(DatasetCatalog::numeric)
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

    private Object lockOf(String key) {
        return keyLocks[Math.floorMod(key.hashCode(), keyLocks.length)];
    }

    private static long numeric(String version) {
        return version.matches("[0-9]{1,18}") ? Long.parseLong(version) : Long.MAX_VALUE;
    }

    /** An index entry pointing at a version. */
    record VersionRef(String version) {}
}
