package dev.finetune.dataset.ingest;

import dev.finetune.dataset.DatasetEvents;
import dev.finetune.dataset.DatasetSettings;
import dev.finetune.dataset.catalog.ContentClaim;
import dev.finetune.dataset.catalog.DatasetCatalog;
import dev.finetune.dataset.catalog.DatasetCatalog.Tagged;
import dev.finetune.dataset.catalog.IngestRecord;
import dev.finetune.dataset.format.DecompressionLimits;
import dev.finetune.errors.TransientException;
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
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Stores a dataset's raw bytes unmodified as a new version, exactly once per content and per
 * submission event, with dense version numbers:
 *
 * <ol>
 *   <li>stream the bytes to a staging key, hashing them on the way (nothing is held in memory) and,
 *       for gzip, inflating them on the side within the decompression limits (413 past them);
 *   <li>if this submission event already made a version, drop the staging copy and answer with it;
 *   <li>claim the content: create its {@link ContentClaim} only if absent. Of concurrent uploads of
 *       the same bytes exactly one wins; every other one waits until the claim names a version and
 *       answers with it, as a repeat upload does (200, {@code duplicate}). A claim that names no
 *       version after {@link #ABANDONED_CLAIM} was left by a crashed upload and is taken over by
 *       compare-and-set;
 *   <li>the winner allocates the version by creating its {@code ingest.json} only if absent: the
 *       requested name, or the lowest free number (re-read after each lost race, so numbers have no
 *       gaps); if it cannot (a requested version exists with other bytes), it releases the claim;
 *   <li>record the version in the claim ({@code allocated}), move the bytes to the version's key,
 *       index the event, publish {@code ingested}, mark the claim {@code ingested}.
 * </ol>
 *
 * A failure in step 5 marks the claim unfinished, and the next upload of the same bytes (the
 * retried request or event) finishes step 5 (the bytes are the same, by their hash). A crash in
 * step 5 leaves the claim {@code allocated}; an upload of the same bytes after {@link
 * #UNFINISHED_CLAIM} finishes it. So no content is stranded in a version that never gets prepared.
 */
@ApplicationScoped
public class DatasetIngestion {
    private static final Logger LOG = Logger.getLogger(DatasetIngestion.class);
    /** A version is claimed by conditional create; this many lost races in a row means something is wrong. */
    private static final int MAX_CLAIM_ATTEMPTS = 100;
    /** Steps 3 to 4 are a listing and two small writes: a claim without a version this old was abandoned. */
    static final Duration ABANDONED_CLAIM = Duration.ofSeconds(60);
    /** How long an upload waits for the winner of its content to name the version (then 503, retried). */
    private static final Duration AWAIT_VERSION = Duration.ofSeconds(30);
    /** Step 5 is one server-side copy and one event: unfinished after this long, its upload died. */
    static final Duration UNFINISHED_CLAIM = Duration.ofMinutes(10);

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
            InputStream checked = gzip ? new GzipLimitCheck(in, settings.decompressionLimits()) : in;
            StoredObject stored = store.put(staging, checked, size, gzip ? "application/gzip" : "application/jsonl");
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
                if (t instanceof DecompressionLimits.LimitExceededException limit) {
                    throw new IngestException(413, limit.getMessage());
                }
            }
            throw e;
        } finally {
            deleteQuietly(staging);
        }
    }

    private IngestOutcome store(IngestRequest request, StoredObject stored, String fileName, String staging) {
        String name = request.name();
        String sha256 = stored.sha256();
        if (request.version() != null) {
            Optional<IngestRecord> existing = catalog.ingestRecord(name, request.version());
            if (existing.isPresent()) {
                IngestOutcome outcome = sameBytesOrConflict(existing.get(), sha256);
                indexEvent(request, outcome.record().version());
                return outcome;
            }
        }
        ContentClaim mine = ContentClaim.claimed(UUID.randomUUID().toString(), Instant.now());
        Optional<String> etag = catalog.createContentClaim(name, sha256, mine);
        while (etag.isEmpty()) {
            Optional<Tagged<ContentClaim>> held = awaitVersion(name, sha256);
            if (held.isEmpty()) {
                etag = catalog.createContentClaim(name, sha256, mine); // released meanwhile: claim it afresh
            } else if (held.get().value().hasVersion()) {
                return alreadyStored(request, held.get(), sha256, staging);
            } else {
                etag = catalog.replaceContentClaim(
                        name, sha256, mine, held.get().etag()); // abandoned
                if (etag.isPresent()) {
                    LOG.warnf("dataset %s: took over the abandoned claim on bytes %s", name, sha256);
                }
            }
        }
        IngestRecord record;
        try {
            record = allocateVersion(request, stored, fileName);
        } catch (RuntimeException e) {
            catalog.releaseContentClaim(name, sha256);
            throw e;
        }
        ContentClaim allocated = mine.allocated(record.version(), Instant.now());
        String allocatedEtag = catalog.replaceContentClaim(name, sha256, allocated, etag.get())
                .orElseThrow(() -> new IllegalStateException("the claim on bytes " + sha256 + " of dataset '" + name
                        + "' was taken over while version " + record.version() + " was allocated"));
        try {
            finish(request, record, new Tagged<>(allocated, allocatedEtag), staging);
        } catch (RuntimeException e) {
            // Let the next upload of these bytes (this one retried) finish the version at once
            // rather than after UNFINISHED_CLAIM.
            try {
                catalog.replaceContentClaim(name, sha256, allocated.unfinished(), allocatedEtag);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        LOG.infof("dataset %s stored: %d bytes, sha256 %s", record.datasetId(), record.sizeBytes(), record.sha256());
        return new IngestOutcome(record, false);
    }

    /** Step 5: the bytes to the version's key, the event index, {@code ingested}, the claim complete. */
    private void finish(IngestRequest request, IngestRecord record, Tagged<ContentClaim> claim, String staging) {
        store.copy(staging, record.rawKey());
        indexEvent(request, record.version());
        announce(record, claim);
    }

    /** The end of step 5, once the bytes are in place: {@code ingested}, then the claim complete. */
    private void announce(IngestRecord record, Tagged<ContentClaim> claim) {
        events.ingested(new DatasetIngested(
                record.datasetId(),
                record.name(),
                record.version(),
                record.format(),
                record.rawKey(),
                record.sha256(),
                record.sizeBytes(),
                record.source(),
                record.ingestedAt()));
        if (catalog.replaceContentClaim(
                        record.name(), record.sha256(), claim.value().ingested(Instant.now()), claim.etag())
                .isEmpty()) {
            LOG.infof("dataset %s: another upload finished it at the same time", record.datasetId());
        }
    }

    /** Another upload holds these bytes: answer with its version, as for a repeat upload. */
    private IngestOutcome alreadyStored(
            IngestRequest request, Tagged<ContentClaim> claim, String sha256, String staging) {
        String name = request.name();
        String version = claim.value().version();
        IngestRecord record = catalog.ingestRecord(name, version)
                .orElseThrow(() -> new IllegalStateException("the claim on bytes " + sha256 + " of dataset '" + name
                        + "' names version " + version + ", which has no ingest record"));
        if (request.version() != null && !request.version().equals(version)) {
            throw new IngestException(
                    409,
                    "these bytes are already version " + version + " of dataset '" + name + "' (sha256 " + sha256
                            + "); a content is stored as one version only");
        }
        if (!claim.value().isIngested() && claim.value().olderThan(Instant.now().minus(UNFINISHED_CLAIM))) {
            LOG.warnf("dataset %s: its upload stopped before it was announced; finishing it", record.datasetId());
            finish(request, record, claim, staging);
        } else {
            indexEvent(request, version);
        }
        LOG.infof("dataset %s: bytes %s are already version %s", name, sha256, version);
        return new IngestOutcome(record, true);
    }

    /**
     * Waits until the claim on these bytes names a version or is found abandoned (returned without
     * a version, for the caller to take over); empty if it was released (no claim any more).
     */
    private Optional<Tagged<ContentClaim>> awaitVersion(String name, String sha256) {
        long deadline = System.nanoTime() + AWAIT_VERSION.toNanos();
        long pause = 20;
        while (true) {
            Optional<Tagged<ContentClaim>> claim = catalog.contentClaim(name, sha256);
            if (claim.isEmpty()
                    || claim.get().value().hasVersion()
                    || claim.get().value().olderThan(Instant.now().minus(ABANDONED_CLAIM))) {
                return claim;
            }
            if (System.nanoTime() > deadline) {
                throw new TransientException(
                        "another upload of the same bytes to dataset '" + name + "' is still allocating its version",
                        null);
            }
            sleep(pause);
            pause = Math.min(pause * 2, 500);
        }
    }

    private IngestRecord allocateVersion(IngestRequest request, StoredObject stored, String fileName) {
        for (int attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
            String version = request.version() != null
                    ? request.version()
                    : String.valueOf(catalog.nextNumericVersion(request.name()));
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
                // Someone created the requested version, with other bytes (ours are claimed by us).
                sameBytesOrConflict(
                        catalog.ingestRecord(request.name(), version).orElseThrow(), stored.sha256());
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
                .map(record -> {
                    announceIfUnfinished(record);
                    return new IngestOutcome(record, true);
                });
    }

    /**
     * The event indexed this version, so its bytes are in place; if its {@code ingested} event was
     * never acknowledged (the claim is unfinished: its publishing failed, e.g. past a long broker
     * outage, or its upload died), announce it now. Without this the event's redelivery found the
     * version and answered with it, and the version was never prepared.
     */
    private void announceIfUnfinished(IngestRecord record) {
        Optional<Tagged<ContentClaim>> claim = catalog.contentClaim(record.name(), record.sha256());
        if (claim.isPresent()
                && !claim.get().value().isIngested()
                && claim.get().value().olderThan(Instant.now().minus(UNFINISHED_CLAIM))) {
            LOG.warnf("dataset %s: its ingestion was never announced; announcing it", record.datasetId());
            announce(record, claim.get());
        }
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

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientException("interrupted while waiting for a content claim", e);
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
