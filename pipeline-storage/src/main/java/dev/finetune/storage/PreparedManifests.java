package dev.finetune.storage;

import dev.finetune.contracts.PreparedManifest;
import dev.finetune.events.EventJson;
import java.io.IOException;
import java.util.Optional;

/** Where a dataset version's {@link PreparedManifest} is stored, and reading it typed. */
public final class PreparedManifests {
    private PreparedManifests() {}

    /** {@code datasets/prepared/<dataset>/<version>/manifest.json}. */
    public static String key(String dataset, String version) {
        return ObjectKeys.preparedDataset(dataset, version, "manifest.json");
    }

    /**
     * The manifest of a dataset version, or empty while it is not prepared (or never was).
     *
     * @throws IOException if the stored manifest is not a manifest
     */
    public static Optional<PreparedManifest> read(ObjectStore store, String dataset, String version)
            throws IOException {
        try {
            return Optional.of(
                    EventJson.mapper().readValue(store.getBytes(key(dataset, version)), PreparedManifest.class));
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        }
    }
}
