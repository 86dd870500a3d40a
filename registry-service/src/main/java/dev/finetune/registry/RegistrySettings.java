package dev.finetune.registry;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code pipeline.registry.*}: how versions are named, served and exported. */
@ConfigMapping(prefix = "pipeline.registry")
public interface RegistrySettings {
    /**
     * Registered model names by default name ({@code <baseModel>-<datasetName>}), for jobs whose
     * versions should go under another name, e.g. {@code pipeline.registry.model-names.qwen3-support=support-bot}.
     * Unmapped jobs use the default name.
     */
    Map<String, String> modelNames();

    /** How long a presigned download URL stays valid. */
    @WithDefault("15m")
    Duration presignExpiry();

    /** Files up to this size are verified against their SHA-256 before the first byte is served. */
    @WithDefault("16777216")
    long inlineVerifyBytes();

    /** Attempts of an alias compare-and-set under contention before the request is answered 409. */
    @WithDefault("20")
    int aliasAttempts();

    /** Shard size of merged exports: HuggingFace's default of 5 GB per file. */
    @WithDefault("5000000000")
    long mergedShardBytes();

    /** Where checkpoints, base models and merges are staged while they are processed. */
    @WithName("work-dir")
    @WithDefault("${java.io.tmpdir}")
    Path workDir();

    /** Base-model imports. */
    BaseModels baseModels();

    /** {@code pipeline.registry.base-models.*}. */
    interface BaseModels {
        /**
         * The {@code bucket} or {@code bucket/prefix} entries an {@code s3://} import may read from
         * ({@link dev.finetune.storage.AllowedSources}); none: every {@code s3://} import is refused
         * (uploads are unaffected).
         */
        Optional<List<String>> allowedSources();
    }
}
