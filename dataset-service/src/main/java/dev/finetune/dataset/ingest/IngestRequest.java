package dev.finetune.dataset.ingest;

import dev.finetune.events.DatasetFormat;
import java.util.Map;

/**
 * What is known about an incoming dataset besides its bytes.
 *
 * @param name the dataset name
 * @param version the requested version, or null for the next number
 * @param format the declared format (AUTO to detect)
 * @param source {@code upload} or the {@code s3://} URI it came from
 * @param eventId the submission's CloudEvents id, or null for uploads
 * @param expectedSha256 the SHA-256 the submitter says the bytes have, or null
 * @param tokenizerModel base model whose tokenizer counts tokens, or null
 * @param labels free-form labels
 */
public record IngestRequest(
        String name,
        String version,
        DatasetFormat format,
        String source,
        String eventId,
        String expectedSha256,
        String tokenizerModel,
        Map<String, String> labels) {}
