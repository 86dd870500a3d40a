package dev.finetune.contracts;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.finetune.events.DatasetFormat;
import dev.finetune.events.DatasetKind;
import dev.finetune.events.DatasetPrepared;
import java.time.Instant;

/**
 * The outcome of preparing a version: {@code datasets/prepared/<dataset>/<version>/manifest.json},
 * written after every file it names, so a reader that finds it finds complete files. Without it a
 * version is still being prepared (or preparation was interrupted and will be redone). Written by the
 * dataset-service; read, typed, by every service that trains on, evaluates or registers a dataset (storage's
 * {@code PreparedManifests} finds and reads it).
 *
 * @param status {@code prepared} or {@code rejected}
 * @param datasetId {@code <name>@<version>}
 * @param format the declared or detected format
 * @param kind SFT or preference (null if rejected before any line was recognised)
 * @param train the training split (null if rejected)
 * @param validation the validation split (null if rejected)
 * @param test the test split (null if rejected)
 * @param statsKey object key of stats.json (null if rejected)
 * @param reportKey object key of report.json
 * @param lines lines read
 * @param invalidLines lines rejected by validation
 * @param exactDuplicates exact duplicates removed
 * @param nearDuplicates near duplicates removed
 * @param rejection why the dataset was rejected, or null
 * @param sha256 SHA-256 of the raw bytes it was prepared from
 * @param preparedAt when preparation finished
 */
// "prepared" is isPrepared(), derived from status: never written, and ignored in manifests written
// before that was so.
@JsonIgnoreProperties({"prepared"})
public record PreparedManifest(
        String status,
        String datasetId,
        DatasetFormat format,
        DatasetKind kind,
        DatasetPrepared.SplitFile train,
        DatasetPrepared.SplitFile validation,
        DatasetPrepared.SplitFile test,
        String statsKey,
        String reportKey,
        long lines,
        long invalidLines,
        long exactDuplicates,
        long nearDuplicates,
        String rejection,
        String sha256,
        Instant preparedAt) {
    public static final String PREPARED = "prepared";
    public static final String REJECTED = "rejected";

    public boolean isPrepared() {
        return PREPARED.equals(status);
    }
}
