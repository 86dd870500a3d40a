package dev.finetune.dataset.api;

import dev.finetune.contracts.PreparedManifest;
import dev.finetune.dataset.catalog.DatasetCatalog;
import dev.finetune.dataset.catalog.IngestRecord;
import dev.finetune.dataset.ingest.DatasetIngestion;
import dev.finetune.dataset.ingest.IngestOutcome;
import dev.finetune.dataset.ingest.IngestRequest;
import dev.finetune.dataset.split.Splitter.Split;
import dev.finetune.errors.InvalidInputException;
import dev.finetune.events.DatasetFormat;
import dev.finetune.events.TrainingTrigger;
import dev.finetune.naming.Names;
import dev.finetune.security.Roles;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/** Datasets over HTTP: upload a version, follow its preparation, read its statistics and report, download splits. */
@Path("/api/datasets")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class DatasetResource {
    private final DatasetIngestion ingestion;
    private final DatasetCatalog catalog;
    private final ObjectStore store;

    DatasetResource(DatasetIngestion ingestion, DatasetCatalog catalog, ObjectStore store) {
        this.ingestion = ingestion;
        this.catalog = catalog;
        this.store = store;
    }

    /**
     * A version of a dataset as the API shows it.
     *
     * @param status {@code preparing} until the manifest exists, then {@code prepared} or {@code rejected}
     * @param ingest the ingest record
     * @param manifest the preparation outcome, or null while preparing
     */
    public record VersionView(String status, IngestRecord ingest, PreparedManifest manifest) {}

    /**
     * The answer to an upload.
     *
     * @param duplicate true if these bytes were already a version (nothing new was created)
     */
    public record UploadView(String datasetId, String version, String sha256, long sizeBytes, boolean duplicate) {}

    /**
     * Uploads a dataset version: the body is the raw JSONL (optionally gzip), streamed to storage.
     * 201 with the new version, or 200 if the same bytes are already a version (also when another
     * upload of them is being stored at the same moment); 413 past the size or decompression limits.
     */
    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Path("/{name}/versions")
    @Consumes(MediaType.WILDCARD)
    public Response upload(
            @PathParam("name") String name,
            @QueryParam("version") String version,
            @QueryParam("format") @DefaultValue("auto") String format,
            @QueryParam("tokenizer") String tokenizerModel,
            @HeaderParam("Content-Length") Long contentLength,
            InputStream body) {
        DatasetFormat declared = DatasetFormat.fromCode(format);
        if (tokenizerModel != null) {
            Names.requireName("tokenizer", tokenizerModel);
        }
        IngestOutcome outcome = ingestion.ingest(
                new IngestRequest(name, version, declared, "upload", null, null, tokenizerModel, Map.of()),
                body,
                contentLength == null ? -1 : contentLength);
        IngestRecord r = outcome.record();
        UploadView view = new UploadView(r.datasetId(), r.version(), r.sha256(), r.sizeBytes(), outcome.duplicate());
        return Response.status(outcome.duplicate() ? 200 : 201).entity(view).build();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    public List<String> datasets() {
        return catalog.datasets();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{name}/versions")
    public List<VersionView> versions(@PathParam("name") String name) {
        Names.requireName("dataset name", name);
        return catalog.versions(name).stream().map(this::view).toList();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{name}/versions/{version}")
    public VersionView version(@PathParam("name") String name, @PathParam("version") String version) {
        return view(record(name, version));
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{name}/versions/{version}/stats")
    public Response stats(@PathParam("name") String name, @PathParam("version") String version) {
        PreparedManifest manifest = manifest(name, version);
        if (manifest.statsKey() == null) {
            throw new NotFoundException("dataset " + manifest.datasetId() + " was rejected: it has no statistics");
        }
        return json(manifest.statsKey());
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{name}/versions/{version}/report")
    public Response report(@PathParam("name") String name, @PathParam("version") String version) {
        return json(manifest(name, version).reportKey());
    }

    /** Streams a split as JSONL in the canonical chat form. */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{name}/versions/{version}/splits/{split}")
    @Produces("application/jsonl")
    public Response split(
            @PathParam("name") String name, @PathParam("version") String version, @PathParam("split") String split) {
        PreparedManifest manifest = manifest(name, version);
        var file =
                switch (split) {
                    case "train" -> manifest.train();
                    case "validation" -> manifest.validation();
                    case "test" -> manifest.test();
                    default -> throw new NotFoundException(
                            "split must be one of train, validation, test, got '" + split + "'");
                };
        if (file == null) {
            throw new NotFoundException("dataset " + manifest.datasetId() + " was rejected: it has no splits");
        }
        StreamingOutput out = output -> {
            try (InputStream in = store.get(file.key())) {
                in.transferTo(output);
            }
        };
        return Response.ok(out, "application/jsonl")
                .header(
                        "Content-Disposition",
                        "attachment; filename=\""
                                + Split.valueOf(split.toUpperCase()).fileName() + "\"")
                .header("X-Examples", file.examples())
                .header("X-Sha256", file.sha256())
                .build();
    }

    /**
     * Declares (or replaces) the dataset's training trigger: every version prepared from now on
     * carries it in its {@code datasets.prepared} event, and the training-service requests that job.
     * The settings are checked now, with the rules a job is checked with ({@link TriggerSettings}),
     * and stored as checked.
     */
    @PUT
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}/trigger")
    @Consumes(MediaType.APPLICATION_JSON)
    public TrainingTrigger setTrigger(@PathParam("name") String name, TrainingTrigger trigger) {
        if (trigger == null || trigger.baseModel() == null || trigger.method() == null || trigger.objective() == null) {
            throw new InvalidInputException("a trigger needs baseModel, method and objective");
        }
        Names.requireName("baseModel", trigger.baseModel());
        if (trigger.suffix() != null) {
            Names.requireName("suffix", trigger.suffix());
        }
        TrainingTrigger checked = new TrainingTrigger(
                trigger.baseModel(),
                trigger.method(),
                trigger.objective(),
                TriggerSettings.checked(trigger, store),
                trigger.suffix());
        store.putBytes(ObjectKeys.datasetTrigger(name), catalog.bytes(checked), "application/json");
        return checked;
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{name}/trigger")
    public TrainingTrigger trigger(@PathParam("name") String name) {
        return catalog.read(ObjectKeys.datasetTrigger(name), TrainingTrigger.class)
                .orElseThrow(() -> new NotFoundException("dataset '" + name + "' has no trigger"));
    }

    @DELETE
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}/trigger")
    public Response removeTrigger(@PathParam("name") String name) {
        store.delete(ObjectKeys.datasetTrigger(name));
        return Response.noContent().build();
    }

    private VersionView view(IngestRecord record) {
        PreparedManifest manifest =
                catalog.manifest(record.name(), record.version()).orElse(null);
        return new VersionView(manifest == null ? "preparing" : manifest.status(), record, manifest);
    }

    private IngestRecord record(String name, String version) {
        return catalog.ingestRecord(name, version)
                .orElseThrow(() -> new NotFoundException("dataset '" + name + "' has no version '" + version + "'"));
    }

    private PreparedManifest manifest(String name, String version) {
        IngestRecord record = record(name, version);
        return catalog.manifest(name, version)
                .orElseThrow(() -> new NotFoundException("dataset " + record.datasetId() + " is still being prepared"));
    }

    private Response json(String key) {
        StreamingOutput out = output -> {
            try (InputStream in = store.get(key)) {
                in.transferTo(output);
            }
        };
        return Response.ok(out, MediaType.APPLICATION_JSON).build();
    }
}
