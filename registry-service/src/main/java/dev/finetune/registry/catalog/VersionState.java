package dev.finetune.registry.catalog;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;

/**
 * A version as the store shows it now.
 *
 * @param model the registered model name
 * @param version the version number
 * @param status {@value #AVAILABLE}, {@value #ARCHIVED} or {@value #INCOMPLETE}
 * @param manifest the manifest, or null while the version is being registered
 * @param archived the archive marker, or null
 * @param problems why the version is incomplete (missing manifest, missing or truncated files)
 */
public record VersionState(
        String model,
        long version,
        String status,
        VersionManifest manifest,
        ArchiveMarker archived,
        List<String> problems) {
    /** Every file named in the manifest is stored with its size. */
    public static final String AVAILABLE = "available";
    /** Available, but hidden from default listings. */
    public static final String ARCHIVED = "archived";
    /** Being registered, interrupted, or damaged: never served as available. */
    public static final String INCOMPLETE = "incomplete";

    @JsonIgnore
    public boolean isAvailable() {
        return AVAILABLE.equals(status);
    }

    @JsonIgnore
    public boolean isComplete() {
        return !INCOMPLETE.equals(status);
    }
}
