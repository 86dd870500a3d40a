package dev.finetune.events;

import java.time.Instant;

/**
 * A dataset version was validated, cleaned, de-duplicated and split; its files are complete under
 * {@code datasets/prepared/<dataset>/<version>/} before this event is sent.
 *
 * @param datasetId {@code <name>@<version>}
 * @param datasetName the dataset's name
 * @param version the dataset version
 * @param kind what the data can train (SFT conversations or preference pairs)
 * @param train the training split
 * @param validation the validation split
 * @param test the test split
 * @param statsKey object key of the statistics JSON (token counts, length histogram)
 * @param reportKey object key of the validation report (every rejected line with its reason)
 * @param rejectedLines lines dropped as invalid
 * @param duplicatesRemoved exact and near duplicates removed
 * @param sha256 SHA-256 of the raw bytes this was prepared from
 * @param preparedAt when preparation finished
 * @param trigger the dataset's training trigger when it was prepared, or null: the training-service
 *     requests that job
 */
public record DatasetPrepared(
        String datasetId,
        String datasetName,
        String version,
        DatasetKind kind,
        SplitFile train,
        SplitFile validation,
        SplitFile test,
        String statsKey,
        String reportKey,
        long rejectedLines,
        long duplicatesRemoved,
        String sha256,
        Instant preparedAt,
        TrainingTrigger trigger)
        implements PipelineEvent {
    public static final String TYPE = "dev.finetune.dataset.prepared.v1";

    /**
     * One split of a prepared dataset.
     *
     * @param key object key of the canonical JSONL file
     * @param examples number of examples (lines) in it
     * @param sha256 SHA-256 of the file (hex)
     */
    public record SplitFile(String key, long examples, String sha256) {}

    @Override
    public String cloudEventSubject() {
        return datasetId;
    }
}
