package dev.finetune.registry.catalog;

import dev.finetune.naming.Names;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Reads the registry as it is in the object store: models, versions and their status. A version is
 * available only if its manifest exists and every file it names is stored with the recorded size;
 * anything less is {@code incomplete}, with the reason.
 */
@ApplicationScoped
public class RegistryCatalog {
    private final ObjectStore store;
    private final JsonObjects json;

    RegistryCatalog(ObjectStore store, JsonObjects json) {
        this.store = store;
        this.json = json;
    }

    /** Registered model names, sorted. */
    public List<String> models() {
        return store.listChildren(RegistryKeys.ROOT).stream()
                .filter(Names::isName)
                .sorted()
                .toList();
    }

    /** Every version of the model that has been claimed, in number order, with its status. */
    public List<VersionState> versions(String model) {
        String prefix = RegistryKeys.model(model);
        Map<Long, Map<String, ObjectInfo>> byVersion = new TreeMap<>();
        Map<Long, Boolean> archived = new TreeMap<>();
        String archivePrefix = prefix + "_archived/";
        for (ObjectInfo object : store.list(prefix)) {
            long version = RegistryKeys.versionOf(model, object.key());
            if (version > 0) {
                String name = object.key()
                        .substring(RegistryKeys.version(model, version).length());
                byVersion.computeIfAbsent(version, v -> new TreeMap<>()).put(name, object);
            } else if (object.key().startsWith(archivePrefix)) {
                String number = object.key().substring(archivePrefix.length()).replace(".json", "");
                if (number.matches("[1-9][0-9]{0,17}")) {
                    archived.put(Long.parseLong(number), true);
                }
            }
        }
        List<VersionState> states = new ArrayList<>();
        byVersion.forEach(
                (version, objects) -> states.add(state(model, version, objects, archived.get(version) != null)));
        return states;
    }

    /**
     * The claimed version numbers, each with whether its manifest exists, from one listing: what
     * claiming the next number needs, without reading any manifest.
     */
    public Map<Long, Boolean> versionNumbers(String model) {
        Map<Long, Boolean> numbers = new TreeMap<>();
        for (ObjectInfo object : store.list(RegistryKeys.model(model))) {
            long version = RegistryKeys.versionOf(model, object.key());
            if (version > 0) {
                boolean manifest = object.key().equals(RegistryKeys.manifest(model, version));
                numbers.merge(version, manifest, Boolean::logicalOr);
            }
        }
        return numbers;
    }

    /** One version's status, or empty if the number was never claimed. */
    public Optional<VersionState> version(String model, long version) {
        Map<String, ObjectInfo> objects = new TreeMap<>();
        String prefix = RegistryKeys.version(model, version);
        for (ObjectInfo object : store.list(prefix)) {
            objects.put(object.key().substring(prefix.length()), object);
        }
        if (objects.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(state(model, version, objects, store.exists(RegistryKeys.archived(model, version))));
    }

    /** The version a job became, if it was registered. */
    public Optional<JobRef> jobRef(String jobId) {
        return json.read(RegistryKeys.job(jobId), JobRef.class);
    }

    public Optional<Registration> registration(String model, long version) {
        return json.read(RegistryKeys.registration(model, version), Registration.class);
    }

    public Optional<MergedManifest> merged(String model, long version) {
        return json.read(RegistryKeys.merged(model, version, RegistryKeys.MANIFEST), MergedManifest.class);
    }

    private VersionState state(String model, long version, Map<String, ObjectInfo> objects, boolean isArchived) {
        ArchiveMarker marker = isArchived
                ? json.read(RegistryKeys.archived(model, version), ArchiveMarker.class)
                        .orElse(null)
                : null;
        if (!objects.containsKey(RegistryKeys.MANIFEST)) {
            return new VersionState(
                    model,
                    version,
                    VersionState.INCOMPLETE,
                    null,
                    marker,
                    List.of("no manifest.json: the registration has not finished"));
        }
        VersionManifest manifest = json.read(RegistryKeys.manifest(model, version), VersionManifest.class)
                .orElse(null);
        if (manifest == null) {
            return new VersionState(
                    model, version, VersionState.INCOMPLETE, null, marker, List.of("manifest.json disappeared"));
        }
        List<String> problems = new ArrayList<>();
        manifest.files().forEach((name, digest) -> {
            ObjectInfo stored = objects.get(name);
            if (stored == null) {
                problems.add(name + " is missing");
            } else if (stored.size() != digest.size()) {
                problems.add(name + " has " + stored.size() + " bytes, recorded " + digest.size());
            }
        });
        String status = !problems.isEmpty()
                ? VersionState.INCOMPLETE
                : marker != null ? VersionState.ARCHIVED : VersionState.AVAILABLE;
        return new VersionState(model, version, status, manifest, marker, List.copyOf(problems));
    }
}
