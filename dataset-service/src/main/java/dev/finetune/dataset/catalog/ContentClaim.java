package dev.finetune.dataset.catalog;

import java.time.Instant;

/**
 * Who holds a content hash of a dataset: {@code datasets/raw/<dataset>/_sha256/<sha256>.json}. It is
 * created only if absent before a version number is allocated, so of several uploads of the same
 * bytes exactly one goes on to make a version; the others read the version from here.
 *
 * @param claimId the upload that holds the claim (random)
 * @param state {@link #CLAIMED} (no version yet), {@link #ALLOCATED} (the version's ingest record
 *     exists, its bytes and {@code ingested} event may not yet) or {@link #INGESTED} (complete).
 *     Absent in index files written before claims existed, which are complete.
 * @param version the version holding the bytes, or null while {@link #CLAIMED}
 * @param since when the claim entered its state
 */
public record ContentClaim(String claimId, String state, String version, Instant since) {
    public static final String CLAIMED = "claimed";
    public static final String ALLOCATED = "allocated";
    public static final String INGESTED = "ingested";

    public static ContentClaim claimed(String claimId, Instant now) {
        return new ContentClaim(claimId, CLAIMED, null, now);
    }

    public ContentClaim allocated(String version, Instant now) {
        return new ContentClaim(claimId, ALLOCATED, version, now);
    }

    /** Allocated, with its finishing failed: dated at the epoch, so the next upload finishes it at once. */
    public ContentClaim unfinished() {
        return new ContentClaim(claimId, ALLOCATED, version, Instant.EPOCH);
    }

    public ContentClaim ingested(Instant now) {
        return new ContentClaim(claimId, INGESTED, version, now);
    }

    public boolean hasVersion() {
        return version != null;
    }

    public boolean isIngested() {
        return state == null ? version != null : state.equals(INGESTED);
    }

    /** Whether the claim has been in its state since before {@code cutoff}. */
    public boolean olderThan(Instant cutoff) {
        return since != null && since.isBefore(cutoff);
    }
}
