package dev.finetune.registry.api;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.naming.Names;
import dev.finetune.registry.RegistryNotFoundException;
import dev.finetune.registry.basemodel.BaseModelImporter;
import dev.finetune.registry.basemodel.BaseModelManifest;
import dev.finetune.registry.basemodel.BaseModels;
import dev.finetune.security.Roles;
import dev.finetune.storage.S3Location;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/**
 * Base models: import one (verified, stored under {@code models/base/<name>/} with each file's
 * SHA-256), list them, show one. Jobs may name only these.
 */
@Path("/api/base-models")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class BaseModelResource {
    private final BaseModels models;
    private final BaseModelImporter importer;
    private final SecurityIdentity identity;

    BaseModelResource(BaseModels models, BaseModelImporter importer, SecurityIdentity identity) {
        this.models = models;
        this.importer = importer;
        this.identity = identity;
    }

    /**
     * An import from the object store.
     *
     * @param name the base model's name
     * @param source {@code s3://bucket/prefix/}: the model directory's files, directly under the prefix
     */
    public record ImportRequest(String name, String source) {}

    /**
     * The answer to an import.
     *
     * @param alreadyImported true if these files already were the base model (nothing was written)
     */
    public record ImportView(boolean alreadyImported, BaseModelManifest model) {}

    /**
     * A base model in a listing.
     *
     * @param status {@code imported} or {@code seeded} (placed in the store directly)
     */
    public record BaseModelSummary(
            String name,
            String status,
            String modelType,
            String architecture,
            Long parameters,
            long totalBytes,
            String sha256) {
        static BaseModelSummary of(BaseModelManifest m) {
            return new BaseModelSummary(
                    m.name(), m.status(), m.modelType(), m.architecture(), m.parameters(), m.totalBytes(), m.sha256());
        }
    }

    /**
     * Imports the files of a model directory, uploaded as {@code multipart/form-data}: a {@code name}
     * field and one {@code file} part per file, its filename the file's name. 201 with the base
     * model, or 200 if these files already are it; 400 naming the file and field or tensor that fails
     * verification; 409 if the name holds other files.
     */
    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Response upload(@RestForm("name") String name, @RestForm(FileUpload.ALL) List<FileUpload> files)
            throws IOException {
        Map<String, java.nio.file.Path> uploads = new LinkedHashMap<>();
        for (FileUpload file : files) {
            if (uploads.put(file.fileName(), file.uploadedFile()) != null) {
                throw new InvalidInputException("files", "file '" + file.fileName() + "' is uploaded twice");
            }
        }
        return answer(importer.importUploads(requireName(name), uploads, Actors.of(identity)));
    }

    /** Imports a model directory from the object store: {@code {"name": ..., "source": "s3://bucket/prefix/"}}. */
    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Consumes(MediaType.APPLICATION_JSON)
    public Response importFromStore(ImportRequest request) throws IOException {
        if (request == null || request.source() == null) {
            throw new InvalidInputException("source", "source is required: s3://bucket/prefix/ of the model's files");
        }
        S3Location source;
        try {
            source = S3Location.parse(new URI(request.source()));
        } catch (URISyntaxException | InvalidInputException e) {
            throw new InvalidInputException(
                    "source", "source must look like s3://bucket/prefix/, got '" + request.source() + "'", e);
        }
        return answer(importer.importFrom(requireName(request.name()), source, Actors.of(identity)));
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    public List<BaseModelSummary> list() throws IOException {
        List<BaseModelSummary> list = new ArrayList<>();
        for (String name : models.names()) {
            models.find(name).map(BaseModelSummary::of).ifPresent(list::add);
        }
        return list;
    }

    /** One base model with each file's size and SHA-256. */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{name}")
    public BaseModelManifest get(@PathParam("name") String name) throws IOException {
        return models.find(requireName(name))
                .orElseThrow(() ->
                        new RegistryNotFoundException("no base model '" + name + "'; known base models: " + known()));
    }

    private String known() {
        List<String> names = models.names();
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    private static String requireName(String name) {
        if (name == null) {
            throw new InvalidInputException("name", "name is required: the base model's name");
        }
        return Names.requireName("name", name);
    }

    private static Response answer(BaseModelImporter.Outcome outcome) {
        return Response.status(outcome.alreadyImported() ? 200 : 201)
                .entity(new ImportView(outcome.alreadyImported(), outcome.model()))
                .build();
    }
}
