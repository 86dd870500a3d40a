package dev.finetune.dataset.catalog;

import dev.finetune.events.DatasetFormat;
import java.time.Instant;
import java.util.Map;

/**
 * A dataset version as ingested: {@code datasets/raw/<dataset>/<version>/ingest.json}, written once
 * (its conditional creation is what claims the version number) and never changed.
 *
 * @param datasetId {@code <name>@<version>}
 * @param name the dataset's name
 * @param version the version
 * @param format the declared format (AUTO: detected during preparation)
 * @param rawKey object key of the raw bytes
 * @param sha256 SHA-256 of the raw bytes (hex)
 * @param sizeBytes size of the raw bytes
 * @param source {@code upload}, or the {@code s3://} URI of a submission
 * @param eventId CloudEvents id of the submission that created it, or null
 * @param tokenizerModel base model whose tokenizer the statistics use, or null for the default
 * @param labels free-form labels from the submitter
 * @param ingestedAt when it was stored
 */
public record IngestRecord(
        String datasetId,
        String name,
        String version,
        DatasetFormat format,
        String rawKey,
        String sha256,
        long sizeBytes,
        String source,
        String eventId,
        String tokenizerModel,
        Map<String, String> labels,
        Instant ingestedAt) {

    public static String datasetId(String name, String version) {
        return name + "@" + version;
    }
}
