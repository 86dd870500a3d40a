package dev.finetune.registry.basemodel;

import dev.finetune.registry.catalog.FileDigest;
import java.time.Instant;
import java.util.SortedMap;

/**
 * A base model as the registry knows it; written as {@code models/base/<name>/model.json} by an
 * import, after every file it lists, and put together on demand for a base model placed in the
 * store directly ({@code status} "seeded", no source, import time or actor).
 *
 * @param status {@value #IMPORTED} (verified and recorded by an import) or {@value #SEEDED}
 * @param modelType config.json's {@code model_type} ({@code llama}, {@code mistral}, {@code qwen2},
 *     {@code qwen3}); null for a seeded model whose config.json this code cannot read
 * @param architecture the HuggingFace architecture class ({@code LlamaForCausalLM}); null likewise
 * @param parameters the parameter count the config implies; null likewise
 * @param totalBytes the files' sizes added up
 * @param sha256 one hash over all files: the SHA-256 of their {@code sha256sum} lines in name order
 * @param files file name (relative to the model's directory) to size and SHA-256
 * @param source where an import read the files from: {@code upload} or an {@code s3://} prefix
 */
public record BaseModelManifest(
        String name,
        String status,
        String modelType,
        String architecture,
        Long parameters,
        long totalBytes,
        String sha256,
        SortedMap<String, FileDigest> files,
        String source,
        Instant importedAt,
        String importedBy) {
    public static final String IMPORTED = "imported";
    public static final String SEEDED = "seeded";
}
