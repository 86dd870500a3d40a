package dev.finetune.registry.basemodel;

import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.memory.ModelSize;
import dev.finetune.naming.Names;
import dev.finetune.registry.catalog.FileDigest;
import dev.finetune.registry.catalog.Lineage;
import dev.finetune.registry.registration.BaseModelFingerprints;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The base models in the store: a name under {@code models/base/} is a base model once its
 * config.json exists (an import writes it after every weight and tokenizer file). One with an import
 * manifest is described by it; one placed in the store directly ("seeded") is fingerprinted on
 * demand ({@link BaseModelFingerprints}, cached) and described from its config.json.
 */
@ApplicationScoped
public class BaseModels {
    private final ObjectStore store;
    private final JsonObjects json;
    private final BaseModelFingerprints fingerprints;

    BaseModels(ObjectStore store, JsonObjects json, BaseModelFingerprints fingerprints) {
        this.store = store;
        this.json = json;
        this.fingerprints = fingerprints;
    }

    /** The names of the base models, sorted. */
    public List<String> names() {
        return store.listChildren(ObjectKeys.BASE_MODELS).stream()
                .filter(name -> Names.isName(name) && store.exists(configKey(name)))
                .sorted()
                .toList();
    }

    /** The base model of this name, if it exists. */
    public Optional<BaseModelManifest> find(String name) throws IOException {
        if (!store.exists(configKey(name))) {
            return Optional.empty();
        }
        Optional<BaseModelManifest> imported =
                json.read(ObjectKeys.baseModel(name, ObjectKeys.BASE_MODEL_MANIFEST), BaseModelManifest.class);
        return imported.isPresent() ? imported : Optional.of(seeded(name));
    }

    private BaseModelManifest seeded(String name) throws IOException {
        Lineage.BaseModel fingerprint = fingerprints.of(name);
        String prefix = ObjectKeys.baseModelPrefix(name);
        SortedMap<String, FileDigest> files = new TreeMap<>();
        long totalBytes = 0;
        for (ObjectInfo object : store.list(prefix)) {
            String file = object.key().substring(prefix.length());
            String sha256 = fingerprint.files().get(file);
            if (sha256 != null) {
                files.put(file, new FileDigest(object.size(), sha256));
                totalBytes += object.size();
            }
        }
        ModelConfig config = config(name);
        return new BaseModelManifest(
                name,
                BaseModelManifest.SEEDED,
                config == null ? null : config.modelType().hfName(),
                config == null ? null : config.modelType().architecture(),
                config == null ? null : ModelSize.of(config).parameters(),
                totalBytes,
                fingerprint.sha256(),
                files,
                null,
                null,
                null);
    }

    /** The seeded model's config, or null if this code cannot read it (it is listed all the same). */
    private ModelConfig config(String name) {
        String key = configKey(name);
        try {
            return ModelConfigJson.parse(new String(store.getBytes(key), StandardCharsets.UTF_8), Path.of(key));
        } catch (CheckpointException e) {
            return null;
        }
    }

    private static String configKey(String name) {
        return ObjectKeys.baseModel(name, ModelConfigJson.FILE_NAME);
    }
}
