package dev.finetune.contracts;

import dev.finetune.naming.Names;

/** Ids of training jobs that are derived rather than drawn, so the same fact always names the same job. */
public final class JobIds {
    private static final int MAX_LENGTH = 128;

    private JobIds() {}

    /**
     * The job a dataset's trigger requests for one prepared version: {@code ds-<name>-<version>}, cut
     * to 128 characters. A re-delivered {@code datasets.prepared} event names the same job, so it is
     * requested once.
     */
    public static String forDataset(String datasetName, String version) {
        String id = "ds-" + Names.requireName("dataset name", datasetName) + "-"
                + Names.requireName("dataset version", version);
        return id.length() <= MAX_LENGTH ? id : id.substring(0, MAX_LENGTH);
    }
}
