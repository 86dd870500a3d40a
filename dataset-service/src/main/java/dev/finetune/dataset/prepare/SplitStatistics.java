package dev.finetune.dataset.prepare;

import java.util.Arrays;

/**
 * Token-length statistics of one split, accumulated example by example.
 */
public final class SplitStatistics {
    private int[] lengths = new int[1024];
    private int count;
    private long tokens;

    void add(int tokenCount) {
        if (count == lengths.length) {
            lengths = Arrays.copyOf(lengths, count * 2);
        }
        lengths[count++] = tokenCount;
        tokens += tokenCount;
    }

    int count() {
        return count;
    }

    /**
     * The summary written to stats.json.
     *
     * @param examples number of examples
     * @param tokens total tokens
     * @param minTokens shortest example
     * @param maxTokens longest example
     * @param meanTokens mean length
     * @param p50Tokens median length
     * @param p95Tokens 95th percentile length
     * @param truncated examples longer than the sequence length (they would be cut in training)
     */
    public record Summary(
            long examples,
            long tokens,
            int minTokens,
            int maxTokens,
            double meanTokens,
            int p50Tokens,
            int p95Tokens,
            long truncated) {}

    Summary summary(int sequenceLength) {
        if (count == 0) {
            return new Summary(0, 0, 0, 0, 0, 0, 0, 0);
        }
        int[] sorted = Arrays.copyOf(lengths, count);
        Arrays.sort(sorted);
        long truncated = Arrays.stream(sorted).filter(l -> l > sequenceLength).count();
        return new Summary(
                count,
                tokens,
                sorted[0],
                sorted[count - 1],
                (double) tokens / count,
                percentile(sorted, 0.50),
                percentile(sorted, 0.95),
                truncated);
    }

    /** Examples per length bucket of powers of two (≤32, ≤64, ...), over all given splits. */
    static java.util.List<HistogramBucket> histogram(java.util.Collection<SplitStatistics> splits) {
        int max = splits.stream()
                .mapToInt(s -> s.count == 0
                        ? 0
                        : Arrays.stream(s.lengths, 0, s.count).max().orElse(0))
                .max()
                .orElse(0);
        java.util.List<HistogramBucket> buckets = new java.util.ArrayList<>();
        for (long upTo = 32; ; upTo *= 2) {
            long lower = upTo == 32 ? -1 : upTo / 2;
            long bound = upTo;
            long n = splits.stream()
                    .mapToLong(s -> Arrays.stream(s.lengths, 0, s.count)
                            .filter(l -> l > lower && l <= bound)
                            .count())
                    .sum();
            buckets.add(new HistogramBucket(upTo, n));
            if (upTo >= max) {
                return buckets;
            }
        }
    }

    /**
     * @param upToTokens bucket's upper bound (inclusive); its lower bound is the previous bucket's
     * @param examples examples whose length falls in it
     */
    public record HistogramBucket(long upToTokens, long examples) {}

    private static int percentile(int[] sorted, double q) {
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
