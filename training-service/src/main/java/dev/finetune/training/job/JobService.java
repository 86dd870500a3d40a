package dev.finetune.training.job;

import dev.finetune.events.JobState;
import dev.finetune.events.TrainingJobRequested;
import dev.finetune.storage.Digests;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * The one way a job comes in, whether from the API or from a dataset's trigger: validate (the same
 * checks, with the settings checked against their one declaration), record, queue. A job from the
 * API that fails validation is answered 400 and leaves nothing behind; a job from a trigger has no
 * caller to answer, so it is recorded {@code failed} with the reason, where the operator looks.
 */
@ApplicationScoped
public class JobService {
    private static final Logger LOG = Logger.getLogger(JobService.class);

    private final JobStore jobs;
    private final JobValidator validator;
    private final JobEvents events;

    JobService(JobStore jobs, JobValidator validator, JobEvents events) {
        this.jobs = jobs;
        this.validator = validator;
        this.events = events;
    }

    /** Where a request came from; it decides only what happens to an invalid one and who queues it. */
    public enum Origin {
        /** {@code POST /api/jobs}: an invalid request is refused (400) and nothing is recorded. */
        API,
        /** A dataset's trigger on {@code datasets.prepared}: an invalid request is recorded as failed. */
        TRIGGER,
        /**
         * A request found on {@code training.jobs} without a job record (written by an older version):
         * validated and recorded like a trigger's, and not queued again, since it is being consumed.
         */
        QUEUE
    }

    /** The outcome of a submission: the job, and whether it existed already (same id or idempotency key). */
    public record Created(JobRecord job, boolean existing) {}

    /** Validates, records and queues a job from the API. */
    public Created create(TrainingJobRequested request) {
        return submit(request, Origin.API);
    }

    /** Validates, records and (unless it came from the queue) queues a job. */
    public Created submit(TrainingJobRequested request, Origin origin) {
        String keyHash = request.idempotencyKey() == null ? null : Digests.of(request.idempotencyKey());
        if (keyHash != null) {
            Optional<JobRecord> existing = jobs.jobForKey(keyHash).flatMap(jobs::get);
            if (existing.isPresent()) {
                return new Created(existing.get(), true);
            }
        }
        String id = request.jobId() != null
                ? request.jobId()
                : "ftjob-" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        Optional<JobRecord> known = request.jobId() == null ? Optional.empty() : jobs.get(id);
        if (known.isPresent()) {
            return new Created(known.get(), true);
        }
        JobRecord job = fromRequest(id, request);
        try {
            job = validator.validate(job);
        } catch (InvalidJobException e) {
            if (origin == Origin.API) {
                throw e;
            }
            return recordFailed(job, e.getMessage());
        }
        if (keyHash != null && !jobs.claimKey(keyHash, id)) {
            return new Created(jobs.jobForKey(keyHash).flatMap(jobs::get).orElseThrow(), true);
        }
        if (!jobs.create(job)) {
            return new Created(jobs.get(id).orElseThrow(), true);
        }
        events.state(id, JobState.VALIDATING, "job created (" + origin.name().toLowerCase(java.util.Locale.ROOT) + ")");
        if (origin == Origin.QUEUE) {
            JobRecord queued = jobs.update(id, j -> j.withState(JobState.QUEUED, null));
            events.state(id, JobState.QUEUED, "validated; taken from the queue");
            jobs.markRequested(id); // its request is the record being consumed
            return new Created(queued, false);
        }
        return new Created(queue(id), false);
    }

    /**
     * Queues a job whose creating request stopped between its record and its {@code training.jobs}
     * request (the service died, or the broker stayed away past the send's final timeout): the job
     * sat in {@code validating}, or in {@code queued} with no request on the topic, and no worker
     * would ever see it. Records are written only after validation, so such a job is queued as it
     * is. Only jobs older than {@code stranded} are taken, so a request still on its way is left
     * alone (and a second request for one job would start one run only).
     *
     * @return whether the job was stranded and is requested now
     */
    public boolean requeueIfStranded(JobRecord job, Duration stranded) {
        boolean waiting = job.state() == JobState.VALIDATING || job.state() == JobState.QUEUED;
        if (!waiting || job.createdAt().isAfter(Instant.now().minus(stranded)) || jobs.requested(job.id())) {
            return false;
        }
        LOG.warnf(
                "job %s has been %s since %s without a request on training.jobs: requesting it now",
                job.id(), job.state().code(), job.createdAt());
        return queue(job.id()).state() == JobState.QUEUED;
    }

    /** The job a {@code training.jobs} record names: its record, or, if it has none, the request submitted now. */
    public JobRecord accept(TrainingJobRequested request) {
        return jobs.get(request.jobId())
                .orElseGet(() -> submit(request, Origin.QUEUE).job());
    }

    private Created recordFailed(JobRecord job, String reason) {
        if (!jobs.create(job)) {
            return new Created(jobs.get(job.id()).orElseThrow(), true);
        }
        events.state(job.id(), JobState.VALIDATING, "job requested by event");
        return new Created(fail(job.id(), reason), false);
    }

    /** Cancels a job: at once if it is not running, else the worker stops within a step or two. */
    public JobRecord cancel(String id) {
        jobs.requestCancel(id);
        JobRecord job = jobs.update(id, j -> j.state().isTerminal() ? j : j.withCancelRequested());
        if (job.state() == JobState.VALIDATING || job.state() == JobState.QUEUED) {
            JobRecord cancelled =
                    jobs.update(id, j -> j.state().isTerminal() ? j : j.withState(JobState.CANCELLED, null));
            if (cancelled.state() == JobState.CANCELLED && !job.state().isTerminal()) {
                events.state(id, JobState.CANCELLED, "cancelled before training started");
            }
            return cancelled;
        }
        return job;
    }

    public JobRecord fail(String id, String reason) {
        JobRecord failed = jobs.update(id, j -> j.withState(JobState.FAILED, reason));
        events.state(id, JobState.FAILED, reason);
        return failed;
    }

    /**
     * Moves a validated job to {@code queued} and publishes its request, then records that the
     * broker acknowledged it. Only a job still {@code validating} moves: one cancelled meanwhile
     * stays cancelled and is not requested.
     */
    private JobRecord queue(String id) {
        boolean[] moved = new boolean[1];
        JobRecord job = jobs.update(id, j -> {
            moved[0] = j.state() == JobState.VALIDATING;
            return moved[0] ? j.withState(JobState.QUEUED, null) : j;
        });
        if (moved[0]) {
            events.state(id, JobState.QUEUED, "validated; waiting for a worker");
        }
        if (job.state() != JobState.QUEUED) {
            return job;
        }
        events.requested(requestOf(job), "job-requested:" + id);
        jobs.markRequested(id);
        return job;
    }

    /**
     * Requests a job that has started once again on {@code training.jobs}, for the worker that takes
     * it to resume the job (the role-api lease reaper, which trains nothing itself). {@code attempt}
     * (the lease generation reserved for that worker) makes each such request an event of its own.
     */
    public void requestAgain(String id, long attempt) {
        JobRecord job = jobs.get(id).orElseThrow(() -> new IllegalStateException("no job " + id));
        events.requested(requestOf(job), "job-requested:" + id + ":again-" + attempt);
    }

    private static TrainingJobRequested requestOf(JobRecord job) {
        return new TrainingJobRequested(
                job.id(),
                job.baseModel(),
                job.datasetName(),
                job.datasetVersion(),
                job.method(),
                job.objective(),
                job.hyperparameters(),
                job.suffix(),
                job.idempotencyKey(),
                job.createdAt());
    }

    private static JobRecord fromRequest(String id, TrainingJobRequested r) {
        return new JobRecord(
                id,
                r.baseModel(),
                r.datasetName(),
                r.datasetVersion(),
                r.method(),
                r.objective(),
                r.hyperparameters(),
                r.suffix(),
                r.idempotencyKey(),
                JobState.VALIDATING,
                null,
                0,
                0,
                0,
                null,
                null,
                0,
                false,
                0,
                Instant.now(),
                null,
                null);
    }
}
