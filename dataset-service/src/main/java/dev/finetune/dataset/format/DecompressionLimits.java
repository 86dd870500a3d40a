package dev.finetune.dataset.format;

/**
 * How far a gzip stream may expand: a total size and a ratio of output to input. The ratio stops a
 * small bomb (1 MB of zeros expanding to 1 GiB) within milliseconds, long before the size limit
 * would; the size limit bounds an honest but huge file.
 *
 * @param maxBytes most decompressed bytes accepted ({@code pipeline.dataset.max-decompressed-bytes})
 * @param maxRatio most decompressed bytes per compressed byte ({@code pipeline.dataset.max-compression-ratio})
 */
public record DecompressionLimits(long maxBytes, double maxRatio) {
    /**
     * The ratio is judged only past this much output: a small file of repeated lines may compress
     * far better than any limit and is harmless, and early on the compressed count is one read
     * buffer, not what the output was made from.
     */
    static final long RATIO_CHECKED_FROM = 1 << 20;

    public static final String MAX_BYTES_SETTING = "pipeline.dataset.max-decompressed-bytes";
    public static final String MAX_RATIO_SETTING = "pipeline.dataset.max-compression-ratio";

    public DecompressionLimits {
        if (maxBytes < 1) {
            throw new IllegalArgumentException(MAX_BYTES_SETTING + " must be >= 1, got " + maxBytes);
        }
        if (!(maxRatio >= 1)) {
            throw new IllegalArgumentException(MAX_RATIO_SETTING + " must be >= 1, got " + maxRatio);
        }
    }

    /** No limit beyond what a long can count: for callers that read trusted data. */
    public static DecompressionLimits none() {
        return new DecompressionLimits(Long.MAX_VALUE, Double.MAX_VALUE);
    }

    /** Fails if {@code decompressed} bytes made from {@code compressed} bytes exceed either limit. */
    void check(long compressed, long decompressed) throws LimitExceededException {
        if (decompressed > maxBytes) {
            throw new LimitExceededException("the gzip data expands to more than " + maxBytes
                    + " bytes, the limit set by " + MAX_BYTES_SETTING + " (" + maxBytes + ")");
        }
        if (decompressed >= RATIO_CHECKED_FROM && decompressed > maxRatio * Math.max(1, compressed)) {
            throw new LimitExceededException(String.format(
                    java.util.Locale.ROOT,
                    "the gzip data expands more than %s times (%d compressed bytes gave %d), the limit set by %s (%s)",
                    format(maxRatio),
                    compressed,
                    decompressed,
                    MAX_RATIO_SETTING,
                    format(maxRatio)));
        }
    }

    private static String format(double value) {
        return value == Math.rint(value) ? String.valueOf((long) value) : String.valueOf(value);
    }

    /**
     * A decompression limit was exceeded. An IOException, so it passes unchanged through the
     * streams above the one that counts; the message names the limit, its setting and its value.
     */
    public static final class LimitExceededException extends java.io.IOException {
        LimitExceededException(String message) {
            super(message);
        }
    }
}
