package dev.finetune.registry.catalog;

import dev.finetune.events.RegistryAction;
import dev.finetune.registry.RegistryConflictException;
import dev.finetune.registry.RegistryEvents;
import dev.finetune.registry.RegistryNotFoundException;
import dev.finetune.registry.alias.AliasRecord;
import dev.finetune.registry.alias.AliasService;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.RegistryKeys;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;

/**
 * Archives versions: the files stay (and stay downloadable), the version leaves default listings
 * and can no longer be the target of an alias. A version an alias points at cannot be archived.
 */
@ApplicationScoped
public class VersionArchive {
    private final JsonObjects json;
    private final RegistryCatalog catalog;
    private final AliasService aliases;
    private final RegistryEvents events;

    VersionArchive(JsonObjects json, RegistryCatalog catalog, AliasService aliases, RegistryEvents events) {
        this.json = json;
        this.catalog = catalog;
        this.aliases = aliases;
        this.events = events;
    }

    /** Archives the version (archiving it again changes nothing) and returns its new state. */
    public VersionState archive(String model, long version, String actor) {
        VersionState state = catalog.version(model, version)
                .orElseThrow(() -> new RegistryNotFoundException("model '" + model + "' has no version " + version));
        if (!state.isComplete()) {
            throw new RegistryConflictException("version " + version + " of '" + model + "' is incomplete ("
                    + String.join("; ", state.problems()) + ")");
        }
        List<String> pointing = aliases.list(model).stream()
                .filter(a -> a.version() == version)
                .map(AliasRecord::alias)
                .toList();
        if (!pointing.isEmpty()) {
            throw new RegistryConflictException("version " + version + " of '" + model + "' is the target of alias "
                    + String.join(", ", pointing) + ": move the alias before archiving it");
        }
        if (json.create(RegistryKeys.archived(model, version), new ArchiveMarker(actor, Instant.now()))) {
            events.publish(
                    model,
                    version,
                    RegistryAction.VERSION_ARCHIVED,
                    null,
                    null,
                    actor,
                    state.manifest().jobId(),
                    null);
        }
        return catalog.version(model, version).orElseThrow();
    }
}
