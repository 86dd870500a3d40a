package dev.finetune.events;

import java.time.Instant;

/**
 * A dataset's raw bytes are stored, unmodified, under {@code datasets/raw/<dataset>/<version>/}.
 *
 * @param datasetId the id of this dataset version: {@code <name>@<version>}
 * @param datasetName the dataset's name
 * @param version the version this ingestion created
 * @param format the declared format ({@link DatasetFormat#AUTO} if it is to be detected)
 * @param rawKey the object key of the raw bytes
 * @param sha256 SHA-256 of the raw bytes (hex); two ingestions with the same hash are one version
 * @param sizeBytes size of the raw bytes
 * @param source how it arrived: {@code upload} or the {@code s3://} URI of a submission
 * @param ingestedAt when the bytes were stored
 */
public record DatasetIngested(
        String datasetId,
        String datasetName,
        String version,
        DatasetFormat format,
        String rawKey,
        String sha256,
        long sizeBytes,
        String source,
        Instant ingestedAt)
        implements PipelineEvent {
    public static final String TYPE = "dev.finetune.dataset.ingested.v1";

    /**
     * The dataset's name, not this version's id: the preparer handles the versions of one dataset in
     * the order they were ingested, which needs them on one partition.
     */
    @Override
    public String cloudEventSubject() {
        return datasetName;
    }
}
