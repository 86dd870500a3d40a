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
 * and reused while the listing (names, sizes, ETags) is unchanged.
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
        List<ObjectInfo> objects = store.list(prefix);
        if (objects.isEmpty()) {
            throw new InvalidCheckpointException("base model '" + baseModel + "' has no files under " + prefix, null);
        }
        StringBuilder listing = new StringBuilder();
        for (ObjectInfo object : objects) {
            listing.append(object.key())
                    .append(' ')
                    .append(object.size())
                    .append(' ')
                    .append(object.etag())
                    .append('\n');
        }
        String listingSha256 = Digests.of(listing.toString());
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

    /** One hash for a set of files: the SHA-256 of their {@code sha256sum} lines in name order. */
    public static String combined(Map<String, String> sha256ByName) {
        StringBuilder lines = new StringBuilder();
        new TreeMap<>(sha256ByName)
                .forEach((name, sha) ->
                        lines.append(sha).append("  ").append(name).append('\n'));
        return Digests.of(lines.toString());
    }
}
