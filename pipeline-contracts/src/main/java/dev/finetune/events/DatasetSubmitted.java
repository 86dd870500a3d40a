package dev.finetune.events;

import java.net.URI;
import java.time.Instant;
import java.util.Map;

/**
 * An upstream system wrote a dataset to the object store and asks the pipeline to ingest it.
 * Re-sending the same submission (same CloudEvents id, or the same bytes) creates no second version.
 *
 * @param datasetName the dataset's name (a valid name, see {@link dev.finetune.naming.Names})
 * @param version the version to create, or null to let the dataset-service assign the next one
 * @param objectUri where the bytes are: {@code s3://bucket/key}
 * @param format the JSONL shape, or {@link DatasetFormat#AUTO} to detect it
 * @param sha256 the expected SHA-256 of the object (hex), or null to skip the check
 * @param labels free-form labels carried into the dataset's metadata (e.g. owner, source system)
 * @param submittedAt when the upstream system submitted it
 */
public record DatasetSubmitted(
        String datasetName,
        String version,
        URI objectUri,
        DatasetFormat format,
        String sha256,
        Map<String, String> labels,
        Instant submittedAt)
        implements PipelineEvent {
    public static final String TYPE = "dev.finetune.dataset.submitted.v1";

    @Override
    public String cloudEventSubject() {
        return datasetName;
    }
}
