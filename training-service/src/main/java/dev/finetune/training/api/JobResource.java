package dev.finetune.training.api;

import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.Objective;
import dev.finetune.events.TrainingEvent;
import dev.finetune.events.TrainingJobRequested;
import dev.finetune.service.security.Roles;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.job.InvalidJobException;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobService;
import dev.finetune.training.job.JobStore;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.util.List;

/** Fine-tuning jobs, shaped as users of hosted fine-tuning APIs expect. */
@Path("/api/jobs")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class JobResource {
    private final JobService service;
    private final JobStore jobs;
    private final ObjectStore store;

    JobResource(JobService service, JobStore jobs, ObjectStore store) {
        this.service = service;
        this.jobs = jobs;
        this.store = store;
    }

    /**
     * A job request.
     *
     * @param baseModel base model under models/base/
     * @param dataset the prepared dataset: {"name": ..., "version": ...}
     * @param method full, lora (default) or qlora
     * @param objective sft (default) or dpo
     * @param hyperparameters optional values; missing ones take the recipe's defaults
     * @param suffix optional name part for the registered model
     * @param idempotencyKey optional: a retried request with the same key returns the same job
     */
    public record CreateJob(
            String baseModel,
            DatasetRef dataset,
            String method,
            String objective,
            Hyperparameters hyperparameters,
            String suffix,
            String idempotencyKey) {}

    /** A prepared dataset version. */
    public record DatasetRef(String name, String version) {}

    /** A checkpoint of a job in the object store. */
    public record CheckpointView(long step, String prefix, boolean isFinal) {}

    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(CreateJob request) {
        if (request == null) {
            throw new InvalidJobException("a JSON body with baseModel, dataset, method and objective is required");
        }
        if (request.dataset() == null) {
            throw new InvalidJobException("dataset is required: {\"name\": ..., \"version\": ...}");
        }
        TrainingJobRequested job = new TrainingJobRequested(
                null,
                request.baseModel(),
                request.dataset().name(),
                request.dataset().version(),
                request.method() == null ? FineTuneMethod.LORA : FineTuneMethod.fromCode(request.method()),
                request.objective() == null ? Objective.SFT : Objective.fromCode(request.objective()),
                request.hyperparameters(),
                request.suffix(),
                request.idempotencyKey(),
                Instant.now());
        JobService.Created created = service.create(job);
        return Response.status(created.existing() ? 200 : 201)
                .entity(created.job())
                .build();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    public List<JobRecord> list() {
        return jobs.list();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{id}")
    public JobRecord get(@PathParam("id") String id) {
        return job(id);
    }

    /** The job's events after sequence {@code after}, oldest first, a page of at most {@code limit}. */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{id}/events")
    public List<TrainingEvent> events(
            @PathParam("id") String id,
            @QueryParam("after") @DefaultValue("0") long after,
            @QueryParam("limit") @DefaultValue("100") int limit) {
        job(id);
        if (limit < 1 || limit > 1000) {
            throw new BadRequestException("limit must be 1..1000, got " + limit);
        }
        return jobs.events(id, after, limit, TrainingEvent.class);
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{id}/checkpoints")
    public List<CheckpointView> checkpoints(@PathParam("id") String id) {
        JobRecord job = job(id);
        return store.listChildren(ObjectKeys.checkpointsPrefix(id)).stream()
                .filter(name -> name.matches("step-\\d+"))
                .map(name -> Long.parseLong(name.substring(5)))
                .sorted()
                .map(step -> new CheckpointView(
                        step,
                        ObjectKeys.checkpointPrefix(id, step),
                        ObjectKeys.checkpointPrefix(id, step).equals(job.resultPrefix())))
                .toList();
    }

    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Path("/{id}/cancel")
    public JobRecord cancel(@PathParam("id") String id) {
        job(id);
        return service.cancel(id);
    }

    private JobRecord job(String id) {
        return jobs.get(id).orElseThrow(() -> new NotFoundException("no job '" + id + "'"));
    }
}
