package dev.finetune.registry.registration;

import dev.finetune.registry.catalog.Lineage;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The SHA-256 of a base model under {@code models/base/<name>/}: each file's hash, and one hash over
 * all of them ({@code sha256sum} output of the files, sorted by name, hashed). Hashing a large base
 * model means reading all of it, so the result is cached in {@code registry/_base-models/<name>.json}
 * and reused while the listing (names, sizes, ETags) is unchanged. The import manifest ({@code
 * model.json}) is not one of the model's files; an import records the hashes it computed ({@link
 * #record}), so an imported model is never read again to be fingerprinted.
 */
@ApplicationScoped
public class BaseModelFingerprints {
    private final ObjectStore store;
    private final JsonObjects json;

    BaseModelFingerprints(ObjectStore store, JsonObjects json) {
        this.store = store;
        this.json = json;
    }

    /** The cache entry. */
    record Cached(String listingSha256, String sha256, Map<String, String> files) {}

    public Lineage.BaseModel of(String baseModel) throws IOException {
        String prefix = ObjectKeys.baseModelPrefix(baseModel);
        List<ObjectInfo> objects = files(prefix);
        if (objects.isEmpty()) {
            throw new InvalidCheckpointException("base model '" + baseModel + "' has no files under " + prefix, null);
        }
        String listingSha256 = listingSha256(objects);
        String cacheKey = RegistryKeys.baseModelFingerprint(baseModel);
        Cached cached = json.read(cacheKey, Cached.class).orElse(null);
        if (cached == null || !cached.listingSha256().equals(listingSha256)) {
            Map<String, String> files = new TreeMap<>();
            for (ObjectInfo object : objects) {
                try (InputStream in = store.get(object.key())) {
                    files.put(object.key().substring(prefix.length()), Digests.of(in));
                }
            }
            cached = new Cached(listingSha256, combined(files), files);
            json.write(cacheKey, cached);
        }
        return new Lineage.BaseModel(baseModel, prefix, cached.sha256(), cached.files());
    }

    /**
     * Records the hashes an import computed for the files it has just written, for the listing as it
     * is now; if the listing does not hold exactly those files, nothing is recorded (the next {@link
     * #of} hashes what is there).
     */
    public void record(String baseModel, Map<String, String> sha256ByFile) {
        String prefix = ObjectKeys.baseModelPrefix(baseModel);
        List<ObjectInfo> objects = files(prefix);
        boolean same = objects.size() == sha256ByFile.size()
                && objects.stream()
                        .allMatch(o -> sha256ByFile.containsKey(o.key().substring(prefix.length())));
        if (same) {
            Map<String, String> files = new TreeMap<>(sha256ByFile);
            json.write(
                    RegistryKeys.baseModelFingerprint(baseModel),
                    new Cached(listingSha256(objects), combined(files), files));
        }
    }

    /** The model's files: everything under its prefix but the import manifest. */
    private List<ObjectInfo> files(String prefix) {
        String manifest = prefix + ObjectKeys.BASE_MODEL_MANIFEST;
        return store.list(prefix).stream()
                .filter(o -> !o.key().equals(manifest))
                .toList();
    }

    private static String listingSha256(List<ObjectInfo> objects) {
        StringBuilder listing = new StringBuilder();
        for (ObjectInfo object : objects) {
            listing.append(object.key())
                    .append(' ')
                    .append(object.size())
                    .append(' ')
                    .append(object.etag())
                    .append('\n');
        }
        return Digests.of(listing.toString());
    }

    /** One hash for a set of files: the SHA-256 of their {@code sha256sum} lines in name order. */
    public static String combined(Map<String, String> sha256ByName) {
        StringBuilder lines = new StringBuilder();
        new TreeMap<>(sha256ByName)
                .forEach((name, sha) ->
                        lines.append(sha).append("  ").append(name).append('\n'));
        return Digests.of(lines.toString());
    }
}
