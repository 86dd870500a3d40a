package dev.finetune.registry.api;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.naming.Names;
import dev.finetune.registry.RegistryNotFoundException;
import dev.finetune.registry.alias.AliasRecord;
import dev.finetune.registry.alias.AliasService;
import dev.finetune.registry.catalog.Lineage;
import dev.finetune.registry.catalog.MergedManifest;
import dev.finetune.registry.catalog.RegistryCatalog;
import dev.finetune.registry.catalog.VersionArchive;
import dev.finetune.registry.catalog.VersionMetrics;
import dev.finetune.registry.catalog.VersionState;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.registry.store.VerifiedDownloads;
import dev.finetune.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Registered models and their versions: list, filter, read a version with its card, metrics and lineage, archive. */
@Path("/api/models")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class ModelResource {
    private final RegistryCatalog catalog;
    private final AliasService aliases;
    private final VersionArchive archive;
    private final JsonObjects json;
    private final VerifiedDownloads downloads;
    private final SecurityIdentity identity;

    ModelResource(
            RegistryCatalog catalog,
            AliasService aliases,
            VersionArchive archive,
            JsonObjects json,
            VerifiedDownloads downloads,
            SecurityIdentity identity) {
        this.catalog = catalog;
        this.aliases = aliases;
        this.archive = archive;
        this.json = json;
        this.downloads = downloads;
        this.identity = identity;
    }

    /**
     * A registered model.
     *
     * @param versions the number of available versions
     * @param latestVersion the highest available version, or null
     * @param aliases alias to version
     */
    public record ModelView(
            String name, int versions, Long latestVersion, String baseModel, Map<String, Long> aliases) {}

    /**
     * A version with everything stored about it.
     *
     * @param card the model card (README.md)
     * @param merged the merged export, if one was made
     */
    public record VersionDetail(
            VersionView version, String card, VersionMetrics metrics, Lineage lineage, MergedManifest merged) {}

    @GET
    @RolesAllowed(Roles.VIEWER)
    public List<ModelView> models() {
        List<ModelView> models = new ArrayList<>();
        for (String name : catalog.models()) {
            List<VersionState> available = catalog.versions(name).stream()
                    .filter(VersionState::isAvailable)
                    .toList();
            Map<String, Long> pointers = new LinkedHashMap<>();
            aliases.list(name).forEach(a -> pointers.put(a.alias(), a.version()));
            VersionState latest = available.isEmpty() ? null : available.get(available.size() - 1);
            models.add(new ModelView(
                    name,
                    available.size(),
                    latest == null ? null : latest.version(),
                    latest == null ? null : latest.manifest().baseModel(),
                    pointers));
        }
        return models;
    }

    /**
     * The model's versions, oldest first: available ones by default.
     *
     * @param alias only the version this alias points at
     * @param metric only versions that have this metric (within {@code min}/{@code max} if given)
     */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{model}/versions")
    public List<VersionView> versions(
            @PathParam("model") String model,
            @QueryParam("includeArchived") boolean includeArchived,
            @QueryParam("includeIncomplete") boolean includeIncomplete,
            @QueryParam("alias") String alias,
            @QueryParam("baseModel") String baseModel,
            @QueryParam("metric") String metric,
            @QueryParam("min") Double min,
            @QueryParam("max") Double max) {
        Names.requireName("model", model);
        if ((min != null || max != null) && metric == null) {
            throw new InvalidInputException("metric", "min and max filter a metric: add metric=<name>");
        }
        Map<Long, List<String>> pointers = pointers(model);
        Long aliasTarget = alias == null
                ? null
                : aliases.get(model, RegistryKeys.requireAlias(alias))
                        .map(AliasRecord::version)
                        .orElse(-1L);
        List<VersionView> views = new ArrayList<>();
        for (VersionState state : catalog.versions(model)) {
            boolean shown = state.isAvailable()
                    || (includeArchived && VersionState.ARCHIVED.equals(state.status()))
                    || (includeIncomplete && !state.isComplete());
            if (!shown || (aliasTarget != null && aliasTarget != state.version())) {
                continue;
            }
            if (baseModel != null
                    && (state.manifest() == null
                            || !baseModel.equals(state.manifest().baseModel()))) {
                continue;
            }
            if (metric != null) {
                Double value = state.manifest() == null
                        ? null
                        : state.manifest().metrics().get(metric);
                if (value == null || (min != null && value < min) || (max != null && value > max)) {
                    continue;
                }
            }
            views.add(VersionView.of(state, pointers.getOrDefault(state.version(), List.of())));
        }
        return views;
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{model}/versions/{version}")
    public VersionDetail version(@PathParam("model") String model, @PathParam("version") long version)
            throws IOException {
        VersionState state = state(model, version);
        VersionView view = VersionView.of(state, pointers(model).getOrDefault(version, List.of()));
        if (!state.isComplete()) {
            return new VersionDetail(view, null, null, null, null);
        }
        var files = state.manifest().files();
        String card = new String(
                downloads.bytes(RegistryKeys.file(model, version, "README.md"), files.get("README.md")),
                StandardCharsets.UTF_8);
        VersionMetrics metrics = json.mapper()
                .readValue(
                        downloads.bytes(RegistryKeys.file(model, version, "metrics.json"), files.get("metrics.json")),
                        VersionMetrics.class);
        Lineage lineage = json.mapper()
                .readValue(
                        downloads.bytes(RegistryKeys.file(model, version, "lineage.json"), files.get("lineage.json")),
                        Lineage.class);
        return new VersionDetail(
                view, card, metrics, lineage, catalog.merged(model, version).orElse(null));
    }

    /** The model card as Markdown. */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{model}/versions/{version}/card")
    @Produces("text/markdown")
    public String card(@PathParam("model") String model, @PathParam("version") long version) throws IOException {
        VersionState state = state(model, version);
        var digest = Optional.ofNullable(state.manifest())
                .map(m -> m.files().get("README.md"))
                .orElseThrow(() -> new RegistryNotFoundException(
                        "version " + version + " of '" + model + "' is incomplete: it has no card yet"));
        return new String(
                downloads.bytes(RegistryKeys.file(model, version, "README.md"), digest), StandardCharsets.UTF_8);
    }

    /** Hides the version from default listings; its files are kept. */
    @POST
    @RolesAllowed(Roles.ADMIN)
    @Path("/{model}/versions/{version}/archive")
    public VersionView archive(@PathParam("model") String model, @PathParam("version") long version) {
        VersionState state = archive.archive(model, version, Actors.of(identity));
        return VersionView.of(state, List.of());
    }

    private VersionState state(String model, long version) {
        return catalog.version(model, version)
                .orElseThrow(() -> new RegistryNotFoundException("model '" + model + "' has no version " + version));
    }

    private Map<Long, List<String>> pointers(String model) {
        Map<Long, List<String>> byVersion = new LinkedHashMap<>();
        for (AliasRecord alias : aliases.list(model)) {
            byVersion.computeIfAbsent(alias.version(), v -> new ArrayList<>()).add(alias.alias());
        }
        return byVersion;
    }
}
