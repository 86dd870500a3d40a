package dev.finetune.dataset.prepare;

import dev.finetune.dataset.dedup.RemovedDuplicate;
import dev.finetune.dataset.split.Splitter.Split;
import dev.finetune.dataset.validation.LineError;
import dev.finetune.events.DatasetFormat;
import dev.finetune.events.DatasetKind;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What preparing one dataset produced: local split files plus the numbers for the report and the
 * statistics. Nothing here has been uploaded yet.
 *
 * @param format the declared or detected format
 * @param kind SFT or preference
 * @param lines lines read (including blank ones)
 * @param blankLines blank lines, skipped and not counted as invalid
 * @param invalidLines lines that failed validation
 * @param exactDuplicates examples dropped as exact duplicates of an earlier one
 * @param nearDuplicates examples dropped as near duplicates
 * @param splits the split files written
 * @param errors invalid lines in file order, at most the configured number
 * @param errorsByReason count of invalid lines per reason (field + reason)
 * @param invalidLinesByRule count of invalid lines per rule code ({@code InvalidLineException#rule}),
 *     a bounded set, for metrics
 * @param duplicates removed duplicates in file order, each with the line it repeats, at most the
 *     configured number
 * @param rejection why the dataset as a whole is rejected, or null if it is accepted
 * @param statistics token statistics per split and the length histogram
 */
public record PreparationResult(
        DatasetFormat format,
        DatasetKind kind,
        long lines,
        long blankLines,
        long invalidLines,
        long exactDuplicates,
        long nearDuplicates,
        Map<Split, SplitFile> splits,
        List<LineError> errors,
        Map<String, Long> errorsByReason,
        Map<String, Long> invalidLinesByRule,
        List<RemovedDuplicate> duplicates,
        String rejection,
        Statistics statistics) {

    /**
     * @param path the local file
     * @param examples lines in it
     * @param sha256 its SHA-256 (hex)
     */
    public record SplitFile(Path path, long examples, String sha256) {}

    /**
     * @param tokenizer what the token counts were made with
     * @param sequenceLength the length the truncation counts refer to
     * @param splits per-split summaries
     * @param lengthHistogram examples per token-length bucket, all splits
     */
    public record Statistics(
            String tokenizer,
            int sequenceLength,
            Map<String, SplitStatistics.Summary> splits,
            List<SplitStatistics.HistogramBucket> lengthHistogram) {}

    public boolean rejected() {
        return rejection != null;
    }

    public long validExamples() {
        return splits.values().stream().mapToLong(SplitFile::examples).sum();
    }
}
