package dev.finetune.training.api;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.Objective;
import dev.finetune.events.TrainingEvent;
import dev.finetune.events.TrainingJobRequested;
import dev.finetune.naming.Names;
import dev.finetune.security.Roles;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.job.InvalidJobException;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobService;
import dev.finetune.training.job.JobStore;
import dev.finetune.training.stream.JobEventStreams;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.time.Instant;
import java.util.List;

/** Fine-tuning jobs, shaped as users of hosted fine-tuning APIs expect. */
@Path("/api/jobs")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class JobResource {
    /** The most records one page reads: a page is one S3 listing request (at most 1000 keys). */
    static final int MAX_PAGE = 1000;

    private static final String LAST_EVENT_ID = "Last-Event-ID";

    private final JobService service;
    private final JobStore jobs;
    private final ObjectStore store;
    private final JobEventStreams streams;

    JobResource(JobService service, JobStore jobs, ObjectStore store, JobEventStreams streams) {
        this.service = service;
        this.jobs = jobs;
        this.store = store;
        this.streams = streams;
    }

    /**
     * A job request.
     *
     * @param baseModel base model under models/base/
     * @param dataset the prepared dataset: {"name": ..., "version": ...}
     * @param method full, lora (default) or qlora
     * @param objective sft (default), dpo, orpo, kto or reward
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

    /**
     * A page of jobs in id order, at most {@code limit}, after job {@code after}; reads only the
     * page's records. A full page carries a {@code Link} header ({@code rel="next"}) to the next one.
     */
    @GET
    @RolesAllowed(Roles.VIEWER)
    public Response list(
            @QueryParam("limit") @DefaultValue("100") int limit,
            @QueryParam("after") String after,
            @Context UriInfo uri) {
        checkLimit(limit);
        if (after != null && !Names.isName(after)) {
            throw new InvalidInputException(
                    "after", "query parameter after must be a job id (from the previous page), got '" + after + "'");
        }
        List<JobRecord> page = jobs.page(after, limit);
        Response.ResponseBuilder response = Response.ok(page);
        if (page.size() == limit) {
            response.link(
                    uri.getRequestUriBuilder()
                            .replaceQueryParam(
                                    "after", page.get(page.size() - 1).id())
                            .build(),
                    "next");
        }
        return response.build();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{id}")
    public JobRecord get(@PathParam("id") String id) {
        return job(id);
    }

    /**
     * The job's events after sequence {@code after}, oldest first, a page of at most {@code limit};
     * reads only that page of the job's event log.
     */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{id}/events")
    public List<TrainingEvent> events(
            @PathParam("id") String id,
            @QueryParam("after") @DefaultValue("0") long after,
            @QueryParam("limit") @DefaultValue("100") int limit) {
        job(id);
        checkLimit(limit);
        if (after < 0) {
            throw new InvalidInputException(
                    "after", "query parameter after must be an event sequence number >= 0, got " + after);
        }
        return jobs.events(id, after, limit, TrainingEvent.class);
    }

    /**
     * The job's events as Server-Sent Events: each event's {@code id:} is its sequence number, its
     * {@code event:} its kind and its data the event's JSON. First the stored events after the
     * {@code Last-Event-ID} header (all when it is absent), then live ones as they happen; a comment
     * every few seconds keeps idle connections open; the stream ends after the job's terminal state
     * event. A client that reconnects with the last id it saw gets exactly the events after it.
     */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{id}/events/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public Multi<OutboundSseEvent> stream(
            @PathParam("id") String id, @HeaderParam(LAST_EVENT_ID) String lastEventId, @Context Sse sse) {
        job(id);
        return streams.open(id, lastEventId(lastEventId), sse);
    }

    private static long lastEventId(String header) {
        if (header == null || header.isBlank()) {
            return 0;
        }
        try {
            long sequence = Long.parseLong(header.trim());
            if (sequence >= 0) {
                return sequence;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new InvalidInputException(
                LAST_EVENT_ID,
                "header " + LAST_EVENT_ID + " must be the sequence number of one of the job's events (an integer >= 0),"
                        + " got '" + header + "'");
    }

    private static void checkLimit(int limit) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw new InvalidInputException("limit", "query parameter limit must be 1.." + MAX_PAGE + ", got " + limit);
        }
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
