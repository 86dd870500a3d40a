package dev.finetune.events;

import java.time.Instant;

/**
 * A dataset version was rejected: too many invalid lines, or not readable at all. Its raw bytes are
 * kept; the report says what is wrong line by line.
 *
 * @param datasetId {@code <name>@<version>}
 * @param datasetName the dataset's name
 * @param version the dataset version
 * @param reason one sentence a person can act on, e.g. "12.5% of lines are invalid (limit 5%)"
 * @param reportKey object key of the report listing each bad line with line number, field and reason
 * @param invalidLines number of invalid lines
 * @param totalLines number of lines read
 * @param rejectedAt when it was rejected
 */
public record DatasetRejected(
        String datasetId,
        String datasetName,
        String version,
        String reason,
        String reportKey,
        long invalidLines,
        long totalLines,
        Instant rejectedAt)
        implements PipelineEvent {
    public static final String TYPE = "dev.finetune.dataset.rejected.v1";

    @Override
    public String cloudEventSubject() {
        return datasetId;
    }
}
