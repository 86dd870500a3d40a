package dev.finetune.dataset.prepare;

import dev.finetune.dataset.format.DecompressionLimits;
import dev.finetune.events.DatasetFormat;

/**
 * How a dataset is prepared.
 *
 * @param format the declared format, or AUTO
 * @param maxCharacters longest accepted example, in characters of content
 * @param maxInvalidFraction reject the whole dataset if more than this fraction of its non-blank lines
 *     are invalid; below it, invalid lines are dropped and reported
 * @param nearDuplicateThreshold Jaccard similarity from which two examples are near duplicates; 1
 *     keeps only exact de-duplication
 * @param trainRatio share of examples in the training split
 * @param validationRatio share in the validation split
 * @param testRatio share in the test split
 * @param maxTokens the training sequence length the truncation estimate is made for
 * @param maxReportedErrors invalid lines (and removed duplicates) listed one by one in the report
 *     (all are counted)
 * @param decompression how far a gzip dataset may expand
 */
public record PreparationSettings(
        DatasetFormat format,
        long maxCharacters,
        double maxInvalidFraction,
        double nearDuplicateThreshold,
        double trainRatio,
        double validationRatio,
        double testRatio,
        int maxTokens,
        int maxReportedErrors,
        DecompressionLimits decompression) {

    public PreparationSettings {
        if (maxCharacters < 1) {
            throw new IllegalArgumentException("max characters must be >= 1, got " + maxCharacters);
        }
        if (!(maxInvalidFraction >= 0 && maxInvalidFraction <= 1)) {
            throw new IllegalArgumentException("max invalid fraction must be in [0, 1], got " + maxInvalidFraction);
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max tokens must be >= 1, got " + maxTokens);
        }
    }

    /**
     * 200k characters, 5% invalid, near duplicates at 0.85, 90/5/5 split, 2,048 tokens, 1,000 listed
     * errors, gzip up to 20 GiB and 100 times its size (the service's defaults).
     */
    public static PreparationSettings defaults(DatasetFormat format) {
        return new PreparationSettings(
                format, 200_000, 0.05, 0.85, 0.90, 0.05, 0.05, 2048, 1000, new DecompressionLimits(20L << 30, 100));
    }
}
