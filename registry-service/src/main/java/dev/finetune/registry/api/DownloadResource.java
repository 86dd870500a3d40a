package dev.finetune.registry.api;

import dev.finetune.naming.Names;
import dev.finetune.registry.RegistryConflictException;
import dev.finetune.registry.RegistryNotFoundException;
import dev.finetune.registry.RegistrySettings;
import dev.finetune.registry.catalog.FileDigest;
import dev.finetune.registry.catalog.MergedManifest;
import dev.finetune.registry.catalog.RegistryCatalog;
import dev.finetune.registry.catalog.VersionState;
import dev.finetune.registry.export.MergedExporter;
import dev.finetune.registry.store.LocalFiles;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.registry.store.VerifiedDownloads;
import dev.finetune.security.Roles;
import dev.finetune.storage.ObjectStore;
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
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A version's files: streamed through the service (verified against their SHA-256), or as presigned
 * URLs straight from the object store (the client checks the SHA-256 given with each URL); and the
 * merged full-model export.
 */
@Path("/api/models/{model}/versions/{version}")
@Blocking
public class DownloadResource {
    private static final String MERGED = RegistryKeys.MERGED_DIRECTORY;

    private final RegistryCatalog catalog;
    private final VerifiedDownloads downloads;
    private final ObjectStore store;
    private final MergedExporter exporter;
    private final RegistrySettings settings;
    private final SecurityIdentity identity;

    DownloadResource(
            RegistryCatalog catalog,
            VerifiedDownloads downloads,
            ObjectStore store,
            MergedExporter exporter,
            RegistrySettings settings,
            SecurityIdentity identity) {
        this.catalog = catalog;
        this.downloads = downloads;
        this.store = store;
        this.exporter = exporter;
        this.settings = settings;
        this.identity = identity;
    }

    /** A file to fetch with a presigned URL; check its SHA-256 after download. */
    public record DownloadFile(String name, long size, String sha256, URI url) {}

    /** Presigned URLs for every file of a version (or of its merged export), valid until {@code expiresAt}. */
    public record DownloadView(String model, long version, Instant expiresAt, List<DownloadFile> files) {}

    /**
     * Streams one file: {@code adapter_model.safetensors}, {@code README.md}, ..., or {@code merged/<file>}.
     * Files up to {@code pipeline.registry.inline-verify-bytes} are verified before the first byte
     * is sent (a mismatch is a 500 naming the file); larger ones while streaming (a mismatch breaks
     * the transfer).
     */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/files/{file: .+}")
    @Produces(MediaType.WILDCARD)
    public Response file(
            @PathParam("model") String model, @PathParam("version") long version, @PathParam("file") String file)
            throws IOException {
        Names.requireFilePath("file", file);
        Map<String, FileDigest> files =
                file.startsWith(MERGED) ? merged(model, version).files() : files(model, version);
        String name = file.startsWith(MERGED) ? file.substring(MERGED.length()) : file;
        FileDigest digest = files.get(name);
        if (digest == null) {
            throw new RegistryNotFoundException("version " + version + " of '" + model + "' has no file '" + file
                    + "' (it has " + String.join(", ", files.keySet()) + ")");
        }
        String key = file.startsWith(MERGED)
                ? RegistryKeys.merged(model, version, name)
                : RegistryKeys.file(model, version, name);
        Response.ResponseBuilder response;
        if (digest.size() <= settings.inlineVerifyBytes()) {
            response = Response.ok(downloads.bytes(key, digest));
        } else {
            StreamingOutput body = output -> {
                try (InputStream in = downloads.open(key, digest)) {
                    in.transferTo(output);
                }
            };
            response = Response.ok(body).header("Content-Length", digest.size());
        }
        String fileName = name.substring(name.lastIndexOf('/') + 1);
        return response.type(LocalFiles.contentType(name))
                .header("Content-Disposition", "attachment; filename=\"" + fileName + "\"")
                .header("X-Sha256", digest.sha256())
                .build();
    }

    /** Presigned GET URLs of the version's files ({@code ?merged=true}: of its merged export). */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/download")
    @Produces(MediaType.APPLICATION_JSON)
    public DownloadView download(
            @PathParam("model") String model,
            @PathParam("version") long version,
            @QueryParam("merged") boolean mergedFiles) {
        Map<String, FileDigest> files = mergedFiles ? merged(model, version).files() : files(model, version);
        List<DownloadFile> urls = new ArrayList<>();
        files.forEach((name, digest) -> {
            String key =
                    mergedFiles ? RegistryKeys.merged(model, version, name) : RegistryKeys.file(model, version, name);
            urls.add(new DownloadFile(
                    name, digest.size(), digest.sha256(), store.presignedGet(key, settings.presignExpiry())));
        });
        return new DownloadView(model, version, Instant.now().plus(settings.presignExpiry()), urls);
    }

    /**
     * Merges the version's adapter into its base model and stores the result as a HuggingFace
     * checkpoint (201), or returns the export made before (200). Runs synchronously: for large base
     * models raise the client's timeout.
     */
    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Path("/merged")
    @Produces(MediaType.APPLICATION_JSON)
    public Response export(@PathParam("model") String model, @PathParam("version") long version) throws IOException {
        MergedExporter.Export export = exporter.export(model, version, Actors.of(identity));
        return Response.status(export.created() ? 201 : 200)
                .entity(export.manifest())
                .build();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/merged")
    @Produces(MediaType.APPLICATION_JSON)
    public MergedManifest merged(@PathParam("model") String model, @PathParam("version") long version) {
        files(model, version);
        return catalog.merged(model, version)
                .orElseThrow(() -> new RegistryNotFoundException("version " + version + " of '" + model
                        + "' has no merged export: POST to .../merged to make one"));
    }

    /** The files of a complete version; an incomplete one is never served. */
    private Map<String, FileDigest> files(String model, long version) {
        VersionState state = catalog.version(model, version)
                .orElseThrow(() -> new RegistryNotFoundException("model '" + model + "' has no version " + version));
        if (!state.isComplete()) {
            throw new RegistryConflictException("version " + version + " of '" + model + "' is incomplete ("
                    + String.join("; ", state.problems()) + "): its files are not served");
        }
        return state.manifest().files();
    }
}
