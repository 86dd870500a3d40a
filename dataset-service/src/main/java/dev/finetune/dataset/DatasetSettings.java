package dev.finetune.dataset;

import dev.finetune.dataset.format.DecompressionLimits;
import dev.finetune.dataset.prepare.PreparationSettings;
import dev.finetune.events.DatasetFormat;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** {@code pipeline.dataset.*}: how datasets are ingested and prepared. */
@ConfigMapping(prefix = "pipeline.dataset")
public interface DatasetSettings {
    /** Largest accepted upload; larger ones get 413 (the HTTP body limit must be at least this). 5 GiB. */
    @WithDefault("5368709120")
    long maxUploadBytes();

    /**
     * Most bytes a gzip dataset may expand to; an upload beyond it gets 413 and a stored version
     * beyond it is rejected, each naming this limit. 20 GiB: four times the largest upload.
     */
    @WithDefault("21474836480")
    long maxDecompressedBytes();

    /**
     * Most decompressed bytes per compressed byte. JSONL compresses 5-20 times, templated data up to
     * ~50; a gzip bomb ~1000. Judged from 1 MiB of output on, so it stops a bomb within milliseconds.
     */
    @WithDefault("100")
    double maxCompressionRatio();

    /** Datasets prepared at once, each on a thread of the preparation pool; versions of one dataset go in order. */
    @WithDefault("2")
    int preparationConcurrency();

    /** Where {@code datasets.submitted} events may point. */
    Upstream upstream();

    /** The upstream allow-list. */
    interface Upstream {
        /**
         * {@code bucket} (anything in it) or {@code bucket/prefix/} entries; a submission naming any
         * other object is dead-lettered with the reason. None by default: nothing is trusted until
         * configured. The pipeline's own bucket is never a source, whatever this says.
         */
        Optional<List<String>> allowed();
    }

    default DecompressionLimits decompressionLimits() {
        return new DecompressionLimits(maxDecompressedBytes(), maxCompressionRatio());
    }

    /** Longest example, in characters of content: far beyond any context window we train. */
    @WithDefault("200000")
    long maxExampleCharacters();

    /** Reject the whole dataset above this fraction of invalid lines; below, drop and report them. */
    @WithDefault("0.05")
    double maxInvalidFraction();

    /** Jaccard similarity of character 5-grams from which examples are near duplicates (1 = exact only). */
    @WithDefault("0.85")
    double nearDuplicateThreshold();

    Split split();

    /** Split ratios (must sum to 1). */
    interface Split {
        @WithDefault("0.90")
        double train();

        @WithDefault("0.05")
        double validation();

        @WithDefault("0.05")
        double test();
    }

    /** Sequence length the truncation estimate in the statistics refers to. */
    @WithDefault("2048")
    int maxTokens();

    /** Invalid lines listed one by one in a report (all are counted by reason). */
    @WithDefault("1000")
    int maxReportedErrors();

    /** Base model (in the object store) whose tokenizer counts tokens when a dataset names none. */
    Optional<String> defaultTokenizerModel();

    /** Where preparation writes its temporary files (split files before upload). */
    @WithName("work-dir")
    @WithDefault("${java.io.tmpdir}")
    Path workDir();

    /** A new temporary directory under {@link #workDir()}, which is created first if it does not exist. */
    default Path newWorkDirectory(String prefix) throws java.io.IOException {
        return java.nio.file.Files.createTempDirectory(java.nio.file.Files.createDirectories(workDir()), prefix);
    }

    default PreparationSettings preparation(DatasetFormat format) {
        return new PreparationSettings(
                format,
                maxExampleCharacters(),
                maxInvalidFraction(),
                nearDuplicateThreshold(),
                split().train(),
                split().validation(),
                split().test(),
                maxTokens(),
                maxReportedErrors(),
                decompressionLimits());
    }
}
