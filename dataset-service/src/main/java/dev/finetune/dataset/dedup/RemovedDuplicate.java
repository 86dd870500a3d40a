package dev.finetune.dataset.dedup;

/**
 * An example left out because it repeats an earlier one, as the report lists it.
 *
 * @param line its line number in the raw file
 * @param duplicateOf the line of the example it repeats, which was kept
 * @param kind {@code exact} (the same example after normalisation) or {@code near}
 * @param similarity for near duplicates, the lowest estimated similarity of their parts; else null
 */
public record RemovedDuplicate(long line, long duplicateOf, String kind, Double similarity) {
    public static RemovedDuplicate exact(long line, long duplicateOf) {
        return new RemovedDuplicate(line, duplicateOf, "exact", null);
    }

    public static RemovedDuplicate near(long line, NearDuplicateIndex.Match match) {
        return new RemovedDuplicate(line, match.original(), "near", Math.round(match.similarity() * 1000) / 1000.0);
    }
}
