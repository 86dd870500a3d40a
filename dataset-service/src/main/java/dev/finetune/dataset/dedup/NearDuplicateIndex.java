package dev.finetune.dataset.dedup;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Finds near-duplicate texts with MinHash and locality-sensitive hashing: two texts whose sets of
 * character 5-grams have Jaccard similarity at or above the threshold are duplicates; the first
 * one seen is kept.
 *
 * <p>Each text gets a signature of {@value #HASHES} minimum hashes. LSH splits it into bands; texts
 * that agree on a whole band become candidates, and a candidate is a duplicate only if the
 * fraction of agreeing signature positions (an unbiased Jaccard estimate) reaches the threshold.
 * Memory: {@value #HASHES} ints per kept text (256 bytes), so a million examples take ~256 MB.
 */
public final class NearDuplicateIndex {
    static final int HASHES = 64;
    /** 5 characters: long enough that unrelated texts share few shingles, short enough for one-line answers. */
    private static final int SHINGLE = 5;

    private final double threshold;
    private final int bands;
    private final int rows;
    private final long[] multipliers = new long[HASHES];
    private final long[] offsets = new long[HASHES];
    private final List<int[]> signatures = new ArrayList<>();
    private final List<Map<Long, List<Integer>>> buckets = new ArrayList<>();

    /** @param threshold Jaccard similarity from which two texts are duplicates, in (0, 1] */
    public NearDuplicateIndex(double threshold) {
        if (!(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException("near-duplicate threshold must be in (0, 1], got " + threshold);
        }
        this.threshold = threshold;
        this.rows = rowsFor(threshold);
        this.bands = HASHES / rows;
        SplittableRandom random = new SplittableRandom(0x5eed); // fixed: results must not vary run to run
        for (int i = 0; i < HASHES; i++) {
            multipliers[i] = random.nextLong() | 1L;
            offsets[i] = random.nextLong();
        }
        for (int b = 0; b < bands; b++) {
            buckets.add(new HashMap<>());
        }
    }

    /**
     * Rows per band so that the LSH curve's midpoint (1/b)^(1/r) sits just below the threshold:
     * candidates near the threshold are found, and the exact estimate then decides.
     */
    static int rowsFor(double threshold) {
        int best = 1;
        for (int r : new int[] {1, 2, 4, 8, 16, 32}) {
            double midpoint = Math.pow(1.0 / (HASHES / r), 1.0 / r);
            if (midpoint <= threshold - 0.05) {
                best = r;
            }
        }
        return best;
    }

    /** Whether {@code text} nearly duplicates a text added before; if not, it is added. */
    public boolean isDuplicateOrAdd(String text) {
        int[] signature = signature(text);
        List<Integer> seen = new ArrayList<>();
        long[] bandKeys = new long[bands];
        for (int b = 0; b < bands; b++) {
            bandKeys[b] = bandKey(signature, b);
            List<Integer> bucket = buckets.get(b).get(bandKeys[b]);
            if (bucket == null) {
                continue;
            }
            for (int candidate : bucket) {
                if (!seen.contains(candidate)) {
                    seen.add(candidate);
                    if (similarity(signature, signatures.get(candidate)) >= threshold) {
                        return true;
                    }
                }
            }
        }
        int id = signatures.size();
        signatures.add(signature);
        for (int b = 0; b < bands; b++) {
            buckets.get(b).computeIfAbsent(bandKeys[b], k -> new ArrayList<>(1)).add(id);
        }
        return false;
    }

    /** The estimated Jaccard similarity of two texts (fraction of equal signature positions). */
    public double estimate(String a, String b) {
        return similarity(signature(a), signature(b));
    }

    int[] signature(String text) {
        String s = text.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").strip();
        int[] min = new int[HASHES];
        java.util.Arrays.fill(min, Integer.MAX_VALUE);
        int shingles = Math.max(1, s.length() - SHINGLE + 1);
        for (int start = 0; start < shingles; start++) {
            long h = mix(shingleHash(s, start, Math.min(s.length(), start + SHINGLE)));
            for (int i = 0; i < HASHES; i++) {
                // multiply-add-shift: a universal hash family, cheap enough for 64 per shingle
                int v = (int) ((h * multipliers[i] + offsets[i]) >>> 33);
                if (v < min[i]) {
                    min[i] = v;
                }
            }
        }
        return min;
    }

    private long bandKey(int[] signature, int band) {
        long key = band;
        for (int r = band * rows; r < (band + 1) * rows; r++) {
            key = key * 0x9E3779B97F4A7C15L + signature[r];
        }
        return mix(key);
    }

    private static double similarity(int[] a, int[] b) {
        int equal = 0;
        for (int i = 0; i < HASHES; i++) {
            if (a[i] == b[i]) {
                equal++;
            }
        }
        return (double) equal / HASHES;
    }

    private static long shingleHash(String s, int from, int to) {
        long h = 0xcbf29ce484222325L; // FNV-1a
        for (int i = from; i < to; i++) {
            h ^= s.charAt(i);
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finaliser: spreads every input bit over the output. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
