package dev.finetune.training.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.contracts.RegistryReference;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.RegisteredFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Reads registered versions from the registry's layout in the object store ({@code
 * registry/<model>/<version>/} with its manifest, {@code registry/<model>/_aliases/<alias>.json}) for a
 * job setting that names one ({@code init_adapter}, a reward model): each refusal names the job's field
 * and lists what is known.
 */
final class RegistryVersions {
    /** How many known names a refusal lists. */
    private static final int LISTED = 20;

    private final ObjectStore store;
    private final ObjectMapper json = new ObjectMapper();

    RegistryVersions(ObjectStore store) {
        this.store = store;
    }

    /** The version an alias points at now. */
    long aliasTarget(RegistryReference reference, String field) {
        requireModel(reference, field);
        String key = ObjectKeys.registryAlias(reference.model(), reference.versionOrAlias());
        JsonNode alias = read(key, field)
                .orElseThrow(() -> new InvalidJobException(
                        field,
                        field + " " + reference + ": " + reference.model() + " has no alias "
                                + reference.versionOrAlias() + "; its aliases: " + known(aliases(reference.model()))
                                + "; its versions: " + known(versions(reference.model()))));
        JsonNode version = alias.path("version");
        if (!version.canConvertToLong()) {
            throw new InvalidJobException(
                    field,
                    field + " " + reference + ": alias " + reference.versionOrAlias() + " of " + reference.model()
                            + " points at no version (it was removed)");
        }
        return version.asLong();
    }

    /** The complete version's manifest. */
    JsonNode manifest(RegistryReference reference, long version, String field) {
        requireModel(reference, field);
        return read(ObjectKeys.registryManifest(reference.model(), version), field)
                .orElseThrow(() -> new InvalidJobException(
                        field,
                        field + " " + reference + ": " + reference.model() + " has no complete version " + version
                                + "; its versions: " + known(versions(reference.model()))));
    }

    /** The stored file's bytes, verified against the size and SHA-256 the version's manifest records. */
    byte[] verifiedBytes(String key, JsonNode manifest, String name) throws CheckpointException {
        byte[] bytes = store.getBytes(key);
        RegisteredFiles.Recorded recorded = RegisteredFiles.Recorded.of(manifest, name);
        RegisteredFiles.Recorded found = RegisteredFiles.Recorded.of(bytes);
        if (!found.equals(recorded)) {
            throw mismatch(key, found.describe(), recorded);
        }
        return bytes;
    }

    /**
     * Downloads the version's file {@code name} to {@code file}, verified against its manifest; a file
     * already there that verifies is not downloaded again.
     *
     * @throws CheckpointException naming the key and both hashes if it is not what the registry recorded
     */
    void download(String model, long version, JsonNode manifest, String name, Path file) throws IOException {
        String key = ObjectKeys.registry(model, version, name);
        RegisteredFiles.Recorded recorded = RegisteredFiles.Recorded.of(manifest, name);
        Optional<String> found = RegisteredFiles.download(store, key, recorded, file);
        if (found.isPresent()) {
            throw mismatch(key, found.get(), recorded);
        }
    }

    /** Bad input, not an outage: a file the registry recorded otherwise is never trained from, nor retried. */
    private static CheckpointException mismatch(String key, String found, RegisteredFiles.Recorded recorded) {
        return new CheckpointException(
                Path.of(key),
                null,
                "does not match the version's manifest: " + found + ", recorded " + recorded.describe());
    }

    private void requireModel(RegistryReference reference, String field) {
        if (store.listChildren(ObjectKeys.registryModelPrefix(reference.model()))
                .isEmpty()) {
            List<String> models = store.listChildren("registry/").stream()
                    .filter(name -> !name.startsWith("_"))
                    .toList();
            throw new InvalidJobException(
                    field,
                    field + " " + reference + ": no registered model " + reference.model() + "; registered: "
                            + known(models));
        }
    }

    private List<String> versions(String model) {
        return store.listChildren(ObjectKeys.registryModelPrefix(model)).stream()
                .filter(name -> name.matches("[1-9][0-9]{0,17}"))
                .filter(name -> store.exists(ObjectKeys.registryManifest(model, Long.parseLong(name))))
                .sorted((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)))
                .toList();
    }

    private List<String> aliases(String model) {
        return store.listChildren(ObjectKeys.registryAliasesPrefix(model)).stream()
                .filter(name -> name.endsWith(".json"))
                .map(name -> name.substring(0, name.length() - ".json".length()))
                .toList();
    }

    private static String known(List<String> names) {
        if (names.isEmpty()) {
            return "none";
        }
        return names.size() <= LISTED
                ? String.join(", ", names)
                : String.join(", ", names.subList(0, LISTED)) + " and " + (names.size() - LISTED) + " more";
    }

    private Optional<JsonNode> read(String key, String field) {
        try {
            return Optional.of(json.readTree(store.getBytes(key)));
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new InvalidJobException(field, field + ": " + key + " cannot be read: " + e.getMessage());
        }
    }
}
