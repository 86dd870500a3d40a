package dev.finetune.dataset.split;

import dev.finetune.storage.Digests;
import java.nio.charset.StandardCharsets;

/**
 * Assigns an example to train, validation or test by the hash of its normalised content, not by its
 * position: a re-run, a reordered file or a new version of the same data puts every example in the
 * same split, so a test example never leaks into a later version's training split.
 */
public final class Splitter {
    /** The three splits, with the file name each is written to. */
    public enum Split {
        TRAIN("train"),
        VALIDATION("validation"),
        TEST("test");

        private final String fileStem;

        Split(String fileStem) {
            this.fileStem = fileStem;
        }

        public String fileName() {
            return fileStem + ".jsonl";
        }

        public String key() {
            return fileStem;
        }
    }

    private final double trainBelow;
    private final double validationBelow;

    /** Ratios must be >= 0 and sum to 1 (within 1e-9); test gets what is left. */
    public Splitter(double train, double validation, double test) {
        if (train < 0 || validation < 0 || test < 0 || Math.abs(train + validation + test - 1) > 1e-9) {
            throw new IllegalArgumentException("split ratios must be >= 0 and sum to 1, got train=" + train
                    + " validation=" + validation + " test=" + test);
        }
        this.trainBelow = train;
        this.validationBelow = train + validation;
    }

    public Split assign(String normalisedContent) {
        return assign(Digests.sha256().digest(normalisedContent.getBytes(StandardCharsets.UTF_8)));
    }

    /** The split of content whose SHA-256 is {@code digest} (callers that hash anyway pass it). */
    public Split assign(byte[] digest) {
        double u = unitInterval(digest);
        if (u < trainBelow) {
            return Split.TRAIN;
        }
        return u < validationBelow ? Split.VALIDATION : Split.TEST;
    }

    /** The first 53 bits of a SHA-256 digest as a number in [0, 1). */
    static double unitInterval(byte[] digest) {
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | (digest[i] & 0xff);
        }
        return (bits >>> 11) * 0x1.0p-53;
    }
}
