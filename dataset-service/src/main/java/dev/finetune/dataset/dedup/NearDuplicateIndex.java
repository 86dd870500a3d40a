package dev.finetune.dataset.dedup;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Finds near-duplicate examples with MinHash and locality-sensitive hashing, comparing the whole
 * example part by part: what is asked (system and user turns) and what is answered (assistant
 * turns; a preference example's chosen and rejected answers each). Two examples are near
 * duplicates when every part of one is at least {@code threshold} similar (Jaccard similarity of
 * character 5-grams) to the same part of the other; the first one seen is kept and named as the
 * original.
 *
 * <p>Part by part, because a whole-text similarity is dominated by what examples share: rows of a
 * template that differ in a short slot and a short answer are 90% alike as text and 0% alike as
 * examples. Two rules keep short text from being judged by shingles it does not have:
 *
 * <ul>
 *   <li>an example whose answers are all shorter than {@value #MIN_CHARACTERS} characters is not
 *       judged at all (exact de-duplication still applies): a label-like answer says too little to
 *       call two rows near, and what tells them apart is in their prompts;
 *   <li>a part shorter than that (a short prompt) must be equal, ignoring case and whitespace, not
 *       merely similar: its signature is its fingerprint repeated.
 * </ul>
 *
 * <p>Each part gets a signature of {@value #HASHES} minimum hashes; LSH splits it into bands, and
 * examples that agree on a whole band of the same part become candidates. Candidates are taken
 * from the part whose buckets are smallest (a duplicate must agree on every part, so one part's
 * buckets find it), so a template shared by every prompt does not make every row a candidate.
 * Memory: {@value #HASHES} ints per part per judged example (512 bytes for a prompt and an answer)
 * plus the band buckets.
 */
public final class NearDuplicateIndex {
    static final int HASHES = 64;
    /** 5 characters: long enough that unrelated texts share few shingles, short enough for one-line answers. */
    private static final int SHINGLE = 5;
    /**
     * 20 characters (16 shingles): below it a single changed character already moves Jaccard below
     * any useful threshold, so only equality means anything.
     */
    static final int MIN_CHARACTERS = 20;
    /** Candidates checked per example at most: bounds pathological data; a missed near duplicate is kept. */
    private static final int MAX_CANDIDATES = 512;

    private final double threshold;
    private final int bands;
    private final int rows;
    private final long[] multipliers = new long[HASHES];
    private final long[] offsets = new long[HASHES];
    private final List<int[][]> signatures = new ArrayList<>();
    private long[] tags = new long[1024];
    /** (part, band, band hash) to the ids of the examples in that bucket. */
    private final Map<Long, List<Integer>> buckets = new HashMap<>();

    /**
     * An earlier example the new one nearly duplicates.
     *
     * @param original the tag the earlier example was added with (e.g. its line number)
     * @param similarity the lowest estimated similarity over the parts
     */
    public record Match(long original, double similarity) {}

    /** @param threshold Jaccard similarity from which two parts are alike, in (0, 1] */
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

    /**
     * The earlier example that {@code parts} nearly duplicate; if there is none, the example is
     * added under {@code tag}. Examples too short to judge are neither matched nor added.
     *
     * @param parts what is asked first, then what is answered (a single text counts as an answer)
     */
    public Optional<Match> findOrAdd(List<String> parts, long tag) {
        if (!judged(parts)) {
            return Optional.empty();
        }
        int[][] signature = new int[parts.size()][];
        for (int p = 0; p < parts.size(); p++) {
            signature[p] = signature(parts.get(p));
        }
        long[][] keys = new long[parts.size()][bands];
        int smallest = -1;
        long smallestSize = Long.MAX_VALUE;
        for (int p = 0; p < parts.size(); p++) {
            long size = 0;
            for (int b = 0; b < bands; b++) {
                keys[p][b] = bandKey(p, b, signature[p]);
                List<Integer> bucket = buckets.get(keys[p][b]);
                size += bucket == null ? 0 : bucket.size();
            }
            if (size < smallestSize) {
                smallestSize = size;
                smallest = p;
            }
        }
        Match best = null;
        Set<Integer> seen = new HashSet<>();
        for (int b = 0; b < bands && seen.size() < MAX_CANDIDATES; b++) {
            List<Integer> bucket = buckets.get(keys[smallest][b]);
            if (bucket == null) {
                continue;
            }
            for (int candidate : bucket) {
                if (seen.size() >= MAX_CANDIDATES) {
                    break;
                }
                if (seen.add(candidate)) {
                    double similarity = similarity(signature, signatures.get(candidate));
                    if (similarity >= threshold && (best == null || similarity > best.similarity())) {
                        best = new Match(tags[candidate], similarity);
                    }
                }
            }
        }
        if (best != null) {
            return Optional.of(best);
        }
        add(signature, keys, tag);
        return Optional.empty();
    }

    /** Whether {@code text} nearly duplicates a text added before; if not, it is added. */
    public boolean isDuplicateOrAdd(String text) {
        return findOrAdd(List.of(text), signatures.size()).isPresent();
    }

    /** The estimated Jaccard similarity of two texts (fraction of equal signature positions). */
    public double estimate(String a, String b) {
        return similarity(new int[][] {signature(a)}, new int[][] {signature(b)});
    }

    /** Judged if an answer (a part after the first, or the only part) has enough characters for shingles. */
    private static boolean judged(List<String> parts) {
        for (int p = parts.size() == 1 ? 0 : 1; p < parts.size(); p++) {
            if (normalise(parts.get(p)).length() >= MIN_CHARACTERS) {
                return true;
            }
        }
        return false;
    }

    private void add(int[][] signature, long[][] keys, long tag) {
        int id = signatures.size();
        signatures.add(signature);
        if (id == tags.length) {
            tags = Arrays.copyOf(tags, tags.length * 2);
        }
        tags[id] = tag;
        for (long[] partKeys : keys) {
            for (long key : partKeys) {
                buckets.computeIfAbsent(key, k -> new ArrayList<>(1)).add(id);
            }
        }
    }

    int[] signature(String text) {
        String s = normalise(text);
        int[] min = new int[HASHES];
        if (s.length() < MIN_CHARACTERS) {
            // Too short for shingles: equal texts get equal signatures, different ones (almost)
            // none in common, so only equality counts as alike.
            long fingerprint = shingleHash(s, 0, s.length());
            for (int i = 0; i < HASHES; i++) {
                min[i] = (int) (mix(fingerprint + i) >>> 33);
            }
            return min;
        }
        Arrays.fill(min, Integer.MAX_VALUE);
        for (int start = 0; start <= s.length() - SHINGLE; start++) {
            long h = mix(shingleHash(s, start, start + SHINGLE));
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

    private static String normalise(String text) {
        return text.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").strip();
    }

    private long bandKey(int part, int band, int[] signature) {
        long key = ((long) part << 32) | band;
        for (int r = band * rows; r < (band + 1) * rows; r++) {
            key = key * 0x9E3779B97F4A7C15L + signature[r];
        }
        return mix(key);
    }

    /** The lowest per-part similarity; examples with different numbers of parts are not alike. */
    private static double similarity(int[][] a, int[][] b) {
        if (a.length != b.length) {
            return 0;
        }
        double lowest = 1;
        for (int p = 0; p < a.length; p++) {
            int equal = 0;
            for (int i = 0; i < HASHES; i++) {
                if (a[p][i] == b[p][i]) {
                    equal++;
                }
            }
            lowest = Math.min(lowest, (double) equal / HASHES);
        }
        return lowest;
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
