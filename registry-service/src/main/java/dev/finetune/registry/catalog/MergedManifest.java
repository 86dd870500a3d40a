package dev.finetune.registry.catalog;

import java.time.Instant;
import java.util.Map;

/**
 * A merged export, {@code registry/<model>/<version>/merged/manifest.json}, written after its files.
 *
 * @param model the registered model name
 * @param version the version whose adapter was merged
 * @param baseModel the base model it was merged into
 * @param baseModelSha256 the base model's SHA-256 (as in the version's lineage)
 * @param files the HuggingFace checkpoint's files by name
 * @param exportedBy who asked for it
 * @param exportedAt when it was completed
 */
public record MergedManifest(
        String model,
        long version,
        String baseModel,
        String baseModelSha256,
        Map<String, FileDigest> files,
        String exportedBy,
        Instant exportedAt) {}
