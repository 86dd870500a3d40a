package dev.finetune.storage;

import static dev.finetune.naming.Names.requireFilePath;
import static dev.finetune.naming.Names.requireName;

import dev.finetune.errors.InvalidInputException;

/**
 * The object-store key layout, the one place that knows it. Every part that comes from outside is
 * validated (see {@link dev.finetune.naming.Names}), so no caller can build a key that escapes its
 * prefix.
 *
 * <pre>
 * datasets/raw/&lt;dataset&gt;/&lt;version&gt;/...        as uploaded, never modified
 * datasets/prepared/&lt;dataset&gt;/&lt;version&gt;/...   train/validation/test JSONL + stats + rejects report
 * models/base/&lt;name&gt;/...                      HuggingFace layout
 * checkpoints/&lt;job&gt;/step-&lt;n&gt;/...              adapter or weights + optimizer + trainer state
 * registry/&lt;model&gt;/&lt;version&gt;/...              PEFT adapter, model card, metrics, lineage
 * </pre>
 *
 * Prefix methods end with '/', so a listing of one version never matches another that shares a
 * leading substring ({@code 1/} vs {@code 10/}).
 */
public final class ObjectKeys {
    private ObjectKeys() {}

    public static String rawDatasetPrefix(String dataset, String version) {
        return "datasets/raw/" + requireName("dataset name", dataset) + "/" + requireName("dataset version", version)
                + "/";
    }

    public static String rawDataset(String dataset, String version, String file) {
        return rawDatasetPrefix(dataset, version) + requireFilePath("file", file);
    }

    /** Where an upload is streamed before it has a version: {@code datasets/raw/<dataset>/_staging/<id>}. */
    public static String rawStaging(String dataset, String uploadId) {
        return "datasets/raw/" + requireName("dataset name", dataset) + "/_staging/"
                + requireName("upload id", uploadId);
    }

    /** Content-hash index: which version holds these bytes. The '_' prefix cannot be a version name. */
    public static String rawBySha256(String dataset, String sha256) {
        if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
            throw new InvalidInputException("sha256", "sha256 must be 64 lower-case hex digits, got '" + sha256 + "'");
        }
        return "datasets/raw/" + requireName("dataset name", dataset) + "/_sha256/" + sha256 + ".json";
    }

    /** Event index: which version a submission event (by the hash of its CloudEvents id) created. */
    public static String rawByEvent(String dataset, String eventIdSha256) {
        return rawBySha256(dataset, eventIdSha256).replace("/_sha256/", "/_events/");
    }

    /** The dataset's training trigger policy, if one is declared. */
    public static String datasetTrigger(String dataset) {
        return "datasets/raw/" + requireName("dataset name", dataset) + "/_trigger.json";
    }

    public static String preparedDatasetPrefix(String dataset, String version) {
        return "datasets/prepared/" + requireName("dataset name", dataset) + "/"
                + requireName("dataset version", version) + "/";
    }

    public static String preparedDataset(String dataset, String version, String file) {
        return preparedDatasetPrefix(dataset, version) + requireFilePath("file", file);
    }

    /** Where the base models are: one directory per name. */
    public static final String BASE_MODELS = "models/base/";

    /**
     * The manifest {@code model import} writes after a base model's files (their sizes and SHA-256):
     * a base model without one was placed in the store directly.
     */
    public static final String BASE_MODEL_MANIFEST = "model.json";

    public static String baseModelPrefix(String model) {
        return BASE_MODELS + requireName("base model name", model) + "/";
    }

    public static String baseModel(String model, String file) {
        return baseModelPrefix(model) + requireFilePath("file", file);
    }

    public static String checkpointsPrefix(String job) {
        return "checkpoints/" + requireName("job id", job) + "/";
    }

    public static String checkpointPrefix(String job, long step) {
        if (step < 0) {
            throw new InvalidInputException("step", "checkpoint step must be >= 0, got " + step);
        }
        return checkpointsPrefix(job) + "step-" + step + "/";
    }

    public static String checkpoint(String job, long step, String file) {
        return checkpointPrefix(job, step) + requireFilePath("file", file);
    }

    public static String registryModelPrefix(String model) {
        return "registry/" + requireName("registered model name", model) + "/";
    }

    public static String registryVersionPrefix(String model, long version) {
        if (version < 1) {
            throw new InvalidInputException("version", "registry version must be >= 1, got " + version);
        }
        return registryModelPrefix(model) + version + "/";
    }

    public static String registry(String model, long version, String file) {
        return registryVersionPrefix(model, version) + requireFilePath("file", file);
    }

    /** A complete version's manifest (its files with size and SHA-256), written last by the registry. */
    public static String registryManifest(String model, long version) {
        return registry(model, version, "manifest.json");
    }

    /** Where a model's alias records where it points: {@code registry/<model>/_aliases/<alias>.json}. */
    public static String registryAlias(String model, String alias) {
        return registryAliasesPrefix(model) + requireName("alias", alias) + ".json";
    }

    public static String registryAliasesPrefix(String model) {
        return registryModelPrefix(model) + "_aliases/";
    }
}
