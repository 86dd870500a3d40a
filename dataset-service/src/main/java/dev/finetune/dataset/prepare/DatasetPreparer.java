package dev.finetune.dataset.prepare;

import dev.finetune.contracts.PreparedManifest;
import dev.finetune.dataset.DatasetEvents;
import dev.finetune.dataset.DatasetSettings;
import dev.finetune.dataset.catalog.Announcement;
import dev.finetune.dataset.catalog.DatasetCatalog;
import dev.finetune.dataset.catalog.IngestRecord;
import dev.finetune.dataset.format.UnreadableInputException;
import dev.finetune.dataset.metrics.DatasetMetrics;
import dev.finetune.dataset.split.Splitter.Split;
import dev.finetune.dataset.tokens.TokenCounters;
import dev.finetune.events.DatasetIngested;
import dev.finetune.events.DatasetPrepared;
import dev.finetune.events.DatasetRejected;
import dev.finetune.events.TrainingTrigger;
import dev.finetune.service.messaging.EventProcessing;
import dev.finetune.storage.LocalDirectories;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStore;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Prepares every ingested dataset version: runs {@link DatasetPreparation} on the raw bytes, uploads
 * the splits, statistics and report, then the manifest (last, so a reader never sees a half-written
 * version), then publishes {@code prepared} (carrying the dataset's training trigger, which the
 * training-service applies) or {@code rejected}, and records that the broker acknowledged it
 * ({@code announced.json}). A redelivered event finds the manifest: it publishes the outcome only if
 * that record is missing (the service stopped between the manifest and the acknowledgement), so a
 * version's outcome is published once. A dataset that cannot be read (a corrupt or truncated archive, one that
 * expands past the decompression limits) is rejected with the reason. Several datasets are prepared
 * at once on a bounded {@link PreparationPool}.
 */
@ApplicationScoped
public class DatasetPreparer {
    private static final Logger LOG = Logger.getLogger(DatasetPreparer.class);

    private final ObjectStore store;
    private final DatasetCatalog catalog;
    private final DatasetEvents events;
    private final DatasetSettings settings;
    private final TokenCounters tokenCounters;
    /** Several datasets at once, the versions of one in order (pipeline.dataset.preparation-concurrency). */
    private final PreparationPool pool;

    private final DatasetMetrics metrics;

    DatasetPreparer(
            ObjectStore store,
            DatasetCatalog catalog,
            DatasetEvents events,
            DatasetSettings settings,
            TokenCounters tokenCounters,
            DatasetMetrics metrics) {
        this.store = store;
        this.metrics = metrics;
        this.catalog = catalog;
        this.events = events;
        this.settings = settings;
        this.tokenCounters = tokenCounters;
        this.pool = new PreparationPool(settings.preparationConcurrency(), "dataset-preparation");
    }

    /**
     * Hands the event to the preparation pool and returns: the pool acknowledges it when its
     * preparation is done (the commit strategy commits an offset only when everything before it is
     * acknowledged, so a crash redelivers what was not finished). Blocks, on a worker thread, only
     * while the pool is full.
     */
    @Incoming("datasets-ingested")
    @Blocking
    public CompletionStage<Void> onIngested(Message<DatasetIngested> message) throws InterruptedException {
        // A record with no value has no dataset: EventProcessing dead-letters it, in a queue of its own.
        DatasetIngested ingested = message.getPayload();
        pool.submit(
                ingested == null ? "" : ingested.datasetName(),
                () -> EventProcessing.process(
                        message, (event, eventId) -> prepare(event.datasetName(), event.version())));
        return CompletableFuture.completedFuture(null);
    }

    @PreDestroy
    void stop() {
        pool.close();
    }

    /** Prepares one version (or re-announces its outcome if it was prepared before). */
    public PreparedManifest prepare(String name, String version) throws IOException {
        IngestRecord record = catalog.ingestRecord(name, version)
                .orElseThrow(
                        () -> new IllegalArgumentException("no ingested version " + version + " of '" + name + "'"));
        PreparedManifest manifest = catalog.manifest(name, version).orElse(null);
        if (manifest == null) {
            manifest = run(record);
            metrics.prepared(manifest.isPrepared());
        } else if (catalog.announced(name, version)) {
            LOG.infof(
                    "dataset %s was prepared (%s) and announced before: nothing to do",
                    record.datasetId(), manifest.status());
            return manifest;
        } else {
            LOG.infof(
                    "dataset %s was prepared (%s) but its outcome was not announced: announcing it",
                    record.datasetId(), manifest.status());
        }
        announce(record, manifest);
        return manifest;
    }

    private PreparedManifest run(IngestRecord record) throws IOException {
        TrainingTrigger trigger = trigger(record.name());
        String tokenizerModel = record.tokenizerModel() != null
                ? record.tokenizerModel()
                : trigger != null ? trigger.baseModel() : null;
        Path work = settings.newWorkDirectory("prepare-" + record.name() + "-");
        try {
            TokenCounter counter;
            try {
                counter = tokenCounters.forModel(tokenizerModel);
            } catch (dev.finetune.errors.InvalidInputException e) {
                return reject(record, e.getMessage());
            }
            PreparationResult result;
            try (InputStream raw = store.get(record.rawKey())) {
                result = new DatasetPreparation(settings.preparation(record.format()), counter).prepare(raw, work);
            } catch (ObjectNotFoundException e) {
                return reject(
                        record,
                        "the raw bytes are missing (" + record.rawKey()
                                + "): the upload was interrupted; upload the dataset again");
            } catch (UnreadableInputException e) {
                return reject(record, e.getMessage()); // a corrupt archive or one past the limits
            }
            PreparedManifest manifest = upload(record, result);
            metrics.linesRead(result);
            return manifest;
        } finally {
            LocalDirectories.deleteRecursively(work);
        }
    }

    private PreparedManifest upload(IngestRecord record, PreparationResult result) {
        String name = record.name();
        String version = record.version();
        String reportKey = ObjectKeys.preparedDataset(name, version, "report.json");
        store.putBytes(reportKey, catalog.bytes(report(record, result)), "application/json");
        if (result.rejected()) {
            PreparedManifest manifest = new PreparedManifest(
                    PreparedManifest.REJECTED,
                    record.datasetId(),
                    result.format(),
                    null,
                    null,
                    null,
                    null,
                    null,
                    reportKey,
                    result.lines(),
                    result.invalidLines(),
                    result.exactDuplicates(),
                    result.nearDuplicates(),
                    result.rejection(),
                    record.sha256(),
                    Instant.now());
            catalog.writeManifest(name, version, manifest);
            return manifest;
        }
        Map<Split, DatasetPrepared.SplitFile> splits = new LinkedHashMap<>();
        for (Map.Entry<Split, PreparationResult.SplitFile> entry :
                result.splits().entrySet()) {
            String key =
                    ObjectKeys.preparedDataset(name, version, entry.getKey().fileName());
            store.putFile(key, entry.getValue().path(), "application/jsonl");
            splits.put(
                    entry.getKey(),
                    new DatasetPrepared.SplitFile(
                            key, entry.getValue().examples(), entry.getValue().sha256()));
        }
        String statsKey = ObjectKeys.preparedDataset(name, version, "stats.json");
        store.putBytes(statsKey, catalog.bytes(result.statistics()), "application/json");
        PreparedManifest manifest = new PreparedManifest(
                PreparedManifest.PREPARED,
                record.datasetId(),
                result.format(),
                result.kind(),
                splits.get(Split.TRAIN),
                splits.get(Split.VALIDATION),
                splits.get(Split.TEST),
                statsKey,
                reportKey,
                result.lines(),
                result.invalidLines(),
                result.exactDuplicates(),
                result.nearDuplicates(),
                null,
                record.sha256(),
                Instant.now());
        catalog.writeManifest(name, version, manifest);
        LOG.infof(
                "dataset %s prepared: %d train, %d validation, %d test; %d invalid, %d duplicates removed",
                record.datasetId(),
                manifest.train().examples(),
                manifest.validation().examples(),
                manifest.test().examples(),
                manifest.invalidLines(),
                manifest.exactDuplicates() + manifest.nearDuplicates());
        return manifest;
    }

    private PreparedManifest reject(IngestRecord record, String reason) {
        String reportKey = ObjectKeys.preparedDataset(record.name(), record.version(), "report.json");
        store.putBytes(
                reportKey,
                catalog.bytes(Map.of("datasetId", record.datasetId(), "rejection", reason)),
                "application/json");
        PreparedManifest manifest = new PreparedManifest(
                PreparedManifest.REJECTED,
                record.datasetId(),
                record.format(),
                null,
                null,
                null,
                null,
                null,
                reportKey,
                0,
                0,
                0,
                0,
                reason,
                record.sha256(),
                Instant.now());
        catalog.writeManifest(record.name(), record.version(), manifest);
        return manifest;
    }

    /**
     * Publishes the outcome, then records that it was acknowledged. A crash or an object-store
     * failure between the two is the one case where a redelivery publishes it again (with the same
     * CloudEvents id, which consumers recognise).
     */
    private void announce(IngestRecord record, PreparedManifest m) {
        String eventId;
        String type;
        if (m.isPrepared()) {
            DatasetPrepared event = preparedEvent(record, m);
            eventId = events.prepared(event);
            type = event.cloudEventType();
        } else {
            DatasetRejected event = rejectedEvent(record, m);
            eventId = events.rejected(event);
            type = event.cloudEventType();
        }
        catalog.markAnnounced(record.name(), record.version(), new Announcement(eventId, type, Instant.now()));
    }

    private static DatasetRejected rejectedEvent(IngestRecord record, PreparedManifest m) {
        return new DatasetRejected(
                record.datasetId(),
                record.name(),
                record.version(),
                m.rejection(),
                m.reportKey(),
                m.invalidLines(),
                m.lines(),
                m.preparedAt());
    }

    private DatasetPrepared preparedEvent(IngestRecord record, PreparedManifest m) {
        return new DatasetPrepared(
                record.datasetId(),
                record.name(),
                record.version(),
                m.kind(),
                m.train(),
                m.validation(),
                m.test(),
                m.statsKey(),
                m.reportKey(),
                m.invalidLines(),
                m.exactDuplicates() + m.nearDuplicates(),
                record.sha256(),
                m.preparedAt(),
                trigger(record.name()));
    }

    private TrainingTrigger trigger(String dataset) {
        return catalog.read(ObjectKeys.datasetTrigger(dataset), TrainingTrigger.class)
                .orElse(null);
    }

    private static Map<String, Object> report(IngestRecord record, PreparationResult result) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("datasetId", record.datasetId());
        report.put("format", result.format());
        report.put("lines", result.lines());
        report.put("blankLines", result.blankLines());
        report.put("invalidLines", result.invalidLines());
        report.put("exactDuplicates", result.exactDuplicates());
        report.put("nearDuplicates", result.nearDuplicates());
        report.put("validExamples", result.validExamples());
        report.put("rejection", result.rejection());
        report.put("invalidLinesByReason", result.errorsByReason());
        report.put("invalidLinesListed", result.errors().size());
        report.put("errors", result.errors());
        report.put("duplicatesListed", result.duplicates().size());
        report.put("duplicates", result.duplicates());
        return report;
    }
}
