package dev.finetune.dataset.ingest;

import dev.finetune.dataset.DatasetEvents;
import dev.finetune.dataset.DatasetSettings;
import dev.finetune.dataset.catalog.DatasetCatalog;
import dev.finetune.dataset.catalog.IngestRecord;
import dev.finetune.events.DatasetIngested;
import dev.finetune.naming.Names;
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.StoredObject;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Stores a dataset's raw bytes unmodified as a new version, exactly once per content and per
 * submission event:
 *
 * <ol>
 *   <li>stream the bytes to a staging key, hashing them on the way (nothing is held in memory);
 *   <li>if this submission or these bytes already made a version, drop the staging copy and answer
 *       with that version;
 *   <li>claim the version by creating its {@code ingest.json} only if absent (two concurrent
 *       uploads can never take the same number);
 *   <li>move the bytes to the version's key, record the indexes, publish {@code ingested}.
 * </ol>
 */
@ApplicationScoped
public class DatasetIngestion {
    private static final Logger LOG = Logger.getLogger(DatasetIngestion.class);
    /** A version is claimed by conditional create; this many lost races in a row means something is wrong. */
    private static final int MAX_CLAIM_ATTEMPTS = 100;

    private final ObjectStore store;
    private final DatasetCatalog catalog;
    private final DatasetEvents events;
    private final DatasetSettings settings;

    DatasetIngestion(ObjectStore store, DatasetCatalog catalog, DatasetEvents events, DatasetSettings settings) {
        this.store = store;
        this.catalog = catalog;
        this.events = events;
        this.settings = settings;
    }

    /**
     * @param body the raw bytes (JSONL, optionally gzip); not closed here
     * @param size the byte count if known, else -1
     */
    public IngestOutcome ingest(IngestRequest request, InputStream body, long size) {
        Names.requireName("dataset name", request.name());
        if (request.version() != null) {
            Names.requireName("dataset version", request.version());
        }
        if (size > settings.maxUploadBytes()) {
            throw new IngestException(413, "dataset is " + size + " bytes, limit " + settings.maxUploadBytes());
        }
        Optional<IngestOutcome> known = byEvent(request);
        if (known.isPresent()) {
            return known.get();
        }
        String staging = ObjectKeys.rawStaging(request.name(), UUID.randomUUID().toString());
        try {
            BufferedInputStream in = new BufferedInputStream(new LimitedInputStream(body, settings.maxUploadBytes()));
            boolean gzip = isGzip(in);
            StoredObject stored = store.put(staging, in, size, gzip ? "application/gzip" : "application/jsonl");
            if (stored.size() == 0) {
                throw new IngestException(400, "dataset '" + request.name() + "' is empty");
            }
            if (request.expectedSha256() != null && !request.expectedSha256().equalsIgnoreCase(stored.sha256())) {
                throw new IngestException(
                        422,
                        "the bytes of " + request.source() + " have SHA-256 " + stored.sha256()
                                + ", the submission says " + request.expectedSha256());
            }
            return store(request, stored, gzip ? "data.jsonl.gz" : "data.jsonl", staging);
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof LimitedInputStream.LimitExceededException) {
                    throw new IngestException(
                            413, "dataset is larger than the limit of " + settings.maxUploadBytes() + " bytes");
                }
            }
            throw e;
        } finally {
            deleteQuietly(staging);
        }
    }

    private IngestOutcome store(IngestRequest request, StoredObject stored, String fileName, String staging) {
        String name = request.name();
        if (request.version() != null) {
            Optional<IngestRecord> existing = catalog.ingestRecord(name, request.version());
            if (existing.isPresent()) {
                return sameBytesOrConflict(existing.get(), stored.sha256());
            }
        } else {
            Optional<IngestRecord> sameBytes = catalog.versionBySha256(name, stored.sha256())
                    .flatMap(version -> catalog.ingestRecord(name, version));
            if (sameBytes.isPresent()) {
                indexEvent(request, sameBytes.get().version());
                LOG.infof(
                        "dataset %s: bytes %s are already version %s",
                        name, stored.sha256(), sameBytes.get().version());
                return new IngestOutcome(sameBytes.get(), true);
            }
        }
        IngestRecord record = claimVersion(request, stored, fileName);
        store.copy(staging, record.rawKey());
        catalog.indexSha256(name, stored.sha256(), record.version());
        indexEvent(request, record.version());
        events.ingested(new DatasetIngested(
                record.datasetId(),
                name,
                record.version(),
                record.format(),
                record.rawKey(),
                record.sha256(),
                record.sizeBytes(),
                record.source(),
                record.ingestedAt()));
        LOG.infof("dataset %s stored: %d bytes, sha256 %s", record.datasetId(), record.sizeBytes(), record.sha256());
        return new IngestOutcome(record, false);
    }

    private IngestRecord claimVersion(IngestRequest request, StoredObject stored, String fileName) {
        for (int attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
            String version = request.version() != null
                    ? request.version()
                    : String.valueOf(catalog.nextNumericVersion(request.name()) + attempt);
            IngestRecord record = new IngestRecord(
                    IngestRecord.datasetId(request.name(), version),
                    request.name(),
                    version,
                    request.format(),
                    ObjectKeys.rawDataset(request.name(), version, fileName),
                    stored.sha256(),
                    stored.size(),
                    request.source(),
                    request.eventId(),
                    request.tokenizerModel(),
                    request.labels() == null ? Map.of() : request.labels(),
                    Instant.now());
            if (catalog.claim(record)) {
                return record;
            }
            if (request.version() != null) {
                // Someone created the requested version between our check and our claim.
                return sameBytesOrConflict(
                                catalog.ingestRecord(request.name(), version).orElseThrow(), stored.sha256())
                        .record();
            }
        }
        throw new IllegalStateException(
                "could not claim a version of dataset '" + request.name() + "' in " + MAX_CLAIM_ATTEMPTS + " attempts");
    }

    private IngestOutcome sameBytesOrConflict(IngestRecord existing, String sha256) {
        if (existing.sha256().equals(sha256)) {
            return new IngestOutcome(existing, true);
        }
        throw new IngestException(
                409,
                "version " + existing.version() + " of dataset '" + existing.name()
                        + "' already exists with other content (sha256 " + existing.sha256()
                        + "); versions never change");
    }

    private Optional<IngestOutcome> byEvent(IngestRequest request) {
        if (request.eventId() == null) {
            return Optional.empty();
        }
        return catalog.versionByEvent(request.name(), eventKey(request.eventId()))
                .flatMap(version -> catalog.ingestRecord(request.name(), version))
                .map(record -> new IngestOutcome(record, true));
    }

    private void indexEvent(IngestRequest request, String version) {
        if (request.eventId() != null) {
            catalog.indexEvent(request.name(), eventKey(request.eventId()), version);
        }
    }

    /** Event ids are free text; their hash is a safe key. */
    static String eventKey(String eventId) {
        return Digests.of(eventId);
    }

    /** Cleanup must not hide the failure that led to it; a leftover staging object is harmless. */
    private void deleteQuietly(String key) {
        try {
            store.delete(key);
        } catch (RuntimeException e) {
            LOG.warnf("could not delete staging object %s: %s", key, e.getMessage());
        }
    }

    private static boolean isGzip(BufferedInputStream in) {
        try {
            in.mark(2);
            int b1 = in.read();
            int b2 = in.read();
            in.reset();
            return b1 == 0x1f && b2 == 0x8b;
        } catch (IOException e) {
            throw new UncheckedIOException("reading the upload", e);
        }
    }
}
