package dev.finetune.dataset.ingest;

import dev.finetune.dataset.catalog.IngestRecord;

/**
 * @param record the version the bytes are stored as
 * @param duplicate true if they were already stored (same bytes or same submission event): nothing new was created
 */
public record IngestOutcome(IngestRecord record, boolean duplicate) {}
