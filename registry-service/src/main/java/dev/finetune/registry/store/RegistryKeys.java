package dev.finetune.registry.store;

import dev.finetune.naming.Names;
import dev.finetune.storage.ObjectKeys;

/**
 * The registry's keys under {@code registry/}, built on {@link ObjectKeys}. Version files live in
 * {@code registry/<model>/<version>/}; everything mutable (aliases, archive markers, the promotion
 * policy) lives beside the versions under names starting with '_', which no model name or version
 * number can take, so a version's files are written once and never change.
 *
 * <pre>
 * registry/&lt;model&gt;/&lt;version&gt;/registration.json   the claim of the version number (job, inputs)
 * registry/&lt;model&gt;/&lt;version&gt;/...                 adapter or model files, README.md, metrics.json, lineage.json
 * registry/&lt;model&gt;/&lt;version&gt;/manifest.json       written last: every file with its size and SHA-256
 * registry/&lt;model&gt;/&lt;version&gt;/merged/...          the merged full model, its own manifest.json last
 * registry/&lt;model&gt;/_aliases/&lt;alias&gt;.json         the alias and its history (compare-and-set on its ETag)
 * registry/&lt;model&gt;/_archived/&lt;version&gt;.json     archive marker
 * registry/&lt;model&gt;/_policy.json                   promotion policy
 * registry/_jobs/&lt;job&gt;.json                       which version a job became (registration idempotency)
 * registry/_pending/&lt;job&gt;/...                      final checkpoint / evaluations seen, not yet registered
 * registry/_base-models/&lt;name&gt;.json               cached SHA-256 of a base model's files
 * registry/_base-models/_imports/&lt;name&gt;.json      which content an import of the name is writing
 * </pre>
 */
public final class RegistryKeys {
    /** The registry's root prefix, as {@link ObjectKeys#registryModelPrefix} builds it. */
    public static final String ROOT = "registry/";

    public static final String REGISTRATION = "registration.json";
    public static final String MANIFEST = "manifest.json";
    public static final String MERGED_DIRECTORY = "merged/";

    private RegistryKeys() {}

    public static String model(String model) {
        return ObjectKeys.registryModelPrefix(model);
    }

    public static String version(String model, long version) {
        return ObjectKeys.registryVersionPrefix(model, version);
    }

    public static String file(String model, long version, String file) {
        return ObjectKeys.registry(model, version, file);
    }

    public static String registration(String model, long version) {
        return file(model, version, REGISTRATION);
    }

    public static String manifest(String model, long version) {
        return ObjectKeys.registryManifest(model, version);
    }

    public static String merged(String model, long version, String file) {
        return file(model, version, MERGED_DIRECTORY + file);
    }

    public static String alias(String model, String alias) {
        return ObjectKeys.registryAlias(model, requireAlias(alias));
    }

    public static String aliasesPrefix(String model) {
        return ObjectKeys.registryAliasesPrefix(model);
    }

    public static String archived(String model, long version) {
        version(model, version);
        return model(model) + "_archived/" + version + ".json";
    }

    public static String policy(String model) {
        return model(model) + "_policy.json";
    }

    public static String job(String job) {
        return ROOT + "_jobs/" + Names.requireName("job id", job) + ".json";
    }

    public static String pendingPrefix(String job) {
        return ROOT + "_pending/" + Names.requireName("job id", job) + "/";
    }

    public static String pendingCheckpoint(String job) {
        return pendingPrefix(job) + "checkpoint.json";
    }

    public static String pendingEvaluation(String job, long step) {
        return pendingPrefix(job) + "evaluation-step-" + step + ".json";
    }

    public static String baseModelFingerprint(String baseModel) {
        return ROOT + "_base-models/" + Names.requireName("base model name", baseModel) + ".json";
    }

    /** The claim an import of a base model takes before it writes a file ({@code BaseModelImporter}). */
    public static String baseModelImport(String baseModel) {
        return ROOT + "_base-models/_imports/" + Names.requireName("base model name", baseModel) + ".json";
    }

    /**
     * An alias: a name that is not a number (a number would read as a version).
     *
     * @throws dev.finetune.naming.InvalidNameException naming the value otherwise
     */
    public static String requireAlias(String alias) {
        Names.requireName("alias", alias);
        if (alias.chars().allMatch(Character::isDigit)) {
            throw new dev.finetune.naming.InvalidNameException(
                    "alias must not be a number (it would read as a version), got '" + alias + "'");
        }
        return alias;
    }

    /** The version number of a key under {@code registry/<model>/}, or -1 if the key is not in a version. */
    public static long versionOf(String model, String key) {
        String rest = key.substring(model(model).length());
        int slash = rest.indexOf('/');
        String head = slash < 0 ? rest : rest.substring(0, slash);
        return head.matches("[1-9][0-9]{0,17}") ? Long.parseLong(head) : -1;
    }
}
