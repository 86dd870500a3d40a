package dev.finetune.training.job;

import dev.finetune.events.JobState;
import dev.finetune.events.TrainingJobRequested;
import dev.finetune.storage.Digests;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * Creating and cancelling jobs: validate, record, queue. A job from the API is validated before it
 * is accepted (a bad request is answered 400 and leaves nothing behind); a job from an event is
 * recorded first and, if invalid, ends {@code failed} with the reason.
 */
@ApplicationScoped
public class JobService {
    private final JobStore jobs;
    private final JobValidator validator;
    private final JobEvents events;

    JobService(JobStore jobs, JobValidator validator, JobEvents events) {
        this.jobs = jobs;
        this.validator = validator;
        this.events = events;
    }

    /** The outcome of a create: the job, and whether it existed already (same idempotency key). */
    public record Created(JobRecord job, boolean existing) {}

    /** Validates, records and queues a job from the API. */
    public Created create(TrainingJobRequested request) {
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
        JobRecord job = fromRequest(id, request);
        validator.validate(job);
        if (keyHash != null && !jobs.claimKey(keyHash, id)) {
            return new Created(jobs.jobForKey(keyHash).flatMap(jobs::get).orElseThrow(), true);
        }
        if (!jobs.create(job)) {
            return new Created(jobs.get(id).orElseThrow(), true);
        }
        events.state(id, JobState.VALIDATING, "job created");
        queue(job);
        return new Created(jobs.get(id).orElseThrow(), false);
    }

    /** Records a job requested by an event (if new); invalid requests end failed. Returns the current record. */
    public JobRecord accept(TrainingJobRequested request) {
        JobRecord job = fromRequest(request.jobId(), request);
        if (jobs.create(job)) {
            events.state(job.id(), JobState.VALIDATING, "job requested by event");
        }
        JobRecord current = jobs.get(job.id()).orElseThrow();
        if (current.state() != JobState.VALIDATING) {
            return current;
        }
        try {
            validator.validate(current);
        } catch (InvalidJobException e) {
            return fail(current.id(), e.getMessage());
        }
        JobRecord queued = jobs.update(current.id(), j -> j.withState(JobState.QUEUED, null));
        events.state(current.id(), JobState.QUEUED, "validated; waiting for a worker");
        return queued;
    }

    /** Cancels a job: at once if it is not running, else the worker stops within a step or two. */
    public JobRecord cancel(String id) {
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

    private void queue(JobRecord job) {
        jobs.update(job.id(), j -> j.withState(JobState.QUEUED, null));
        events.state(job.id(), JobState.QUEUED, "validated; waiting for a worker");
        events.requested(new TrainingJobRequested(
                job.id(),
                job.baseModel(),
                job.datasetName(),
                job.datasetVersion(),
                job.method(),
                job.objective(),
                job.hyperparameters(),
                job.suffix(),
                job.idempotencyKey(),
                job.createdAt()));
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
                false,
                0,
                Instant.now(),
                null,
                null);
    }
}
