package dev.finetune.training.worker;

import dev.finetune.events.JobState;
import dev.finetune.service.tracing.WorkContext;
import dev.finetune.training.TrainingSettings;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobService;
import dev.finetune.training.job.JobStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Finds jobs that no worker holds any more and gets them going again. A job's record on
 * {@code training.jobs} is redelivered when its worker dies, but not always to a worker that can take
 * it: the partition's next owner may be busy with another job for hours, or the run may have been
 * dead-lettered after an outage longer than the retry budget. Every training worker therefore looks,
 * every {@code pipeline.training.reaper.interval}, for a job that has not ended and whose lease has
 * expired, and when its own slot is free takes the lease over (a new lease generation written once,
 * so of two reapers exactly one wins) and resumes the job from its last checkpoint, as a redelivery
 * would. A job already resumed {@code max-resumes} times (its record counts every run that starts
 * after one that did not finish, however it was started again: {@link JobRunner}) is failed instead,
 * with the reason: a job that kills every worker it lands on must not go round for ever. It also requests a
 * job whose creating request stopped before the job was on {@code training.jobs} ({@link
 * JobService#requeueIfStranded}), so no job waits for ever in {@code validating} or {@code queued}.
 *
 * <p>Which process reaps depends on {@code pipeline.training.role}: role {@code all} trains the job
 * it took over, as above. Role {@code api} trains nothing: it takes the lease over the same way (so
 * resumes are counted and limited alike), turns its generation into a reservation for {@code
 * reaper.dispatch-window} ({@link JobLease#reserveForDispatch}) and requests the job again on {@code
 * training.jobs}; the worker that takes that request (on Kubernetes, the pod of a Job that KEDA
 * starts for it) takes the reserved lease at once and resumes from the last checkpoint. A
 * reservation that expires unclaimed is requested again, uncounted. Role {@code worker} runs no
 * reaper: its jobs come from the queue only.
 */
@ApplicationScoped
public class LeaseReaper {
    private static final Logger LOG = Logger.getLogger(LeaseReaper.class);

    private final JobStore jobs;
    private final JobService service;
    private final JobRunner runner;
    private final TrainingSettings.Reaper settings;
    private final TrainingSettings.Role role;
    private ScheduledExecutorService executor;

    LeaseReaper(JobStore jobs, JobService service, JobRunner runner, TrainingSettings settings) {
        this.jobs = jobs;
        this.service = service;
        this.runner = runner;
        this.settings = settings.reaper();
        this.role = settings.role();
    }

    void start(@Observes StartupEvent startup) {
        if (!role.serves()) {
            return; // role worker: the api processes reap
        }
        Duration interval = settings.interval();
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException(
                    "pipeline.training.reaper.interval must be a positive duration, got " + interval);
        }
        if (settings.maxResumes() < 0) {
            throw new IllegalArgumentException(
                    "pipeline.training.reaper.max-resumes must be 0 or more, got " + settings.maxResumes());
        }
        executor = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "lease-reaper");
            thread.setDaemon(true); // a job it trains at shutdown is simply reaped again elsewhere
            return thread;
        });
        executor.scheduleWithFixedDelay(this::sweep, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent shutdown) {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    /**
     * One look at the jobs that have not ended ({@link JobStore#active}: only those are read), when
     * this worker is free: takes over the first stranded job it finds and trains it to its end (the
     * worker's slot stays taken meanwhile).
     */
    void sweep() {
        try {
            if (!runner.tryTakeSlot()) {
                return; // busy training: the other workers' reapers look too
            }
            try {
                for (JobRecord job : jobs.active()) {
                    try (WorkContext ignored = JobWork.open(job)) {
                        if (service.requeueIfStranded(job, settings.unrequestedAfter())
                                || job.state() == JobState.VALIDATING) {
                            continue; // requested now, or still being created
                        }
                        if (reap(job) && role.trains()) {
                            return; // trained one; role api only requested it and looks on
                        }
                    }
                }
            } finally {
                runner.releaseSlot();
            }
        } catch (IOException | RuntimeException e) {
            // One bad look (the store away, a job that failed to resume) must not end the schedule.
            LOG.warnf(e, "lease reaper: %s", e.getMessage());
        }
    }

    /** Takes the job over if its lease expired and no one else takes it first; true if it did. */
    boolean reap(JobRecord job) throws IOException {
        String jobId = job.id();
        JobLease lease = runner.lease(jobId);
        Optional<JobLease.Generation> current = lease.current();
        if (current.isEmpty() || !current.get().holder().expired(Instant.now()) || !lease.takeOverExpired()) {
            return false; // never leased (waiting in the queue), held by a live worker, or taken by another reaper
        }
        JobLease.Holder previous = current.get().holder();
        String why = "lease of worker " + previous.worker()
                + (previous.dispatched()
                        ? " was reserved for a worker that did not take the job's request in time"
                        : previous.handedOver()
                                ? " was handed over when that worker shut down"
                                : previous.expiresAt().equals(Instant.EPOCH)
                                        ? " was given up before the job ended"
                                        : " expired at " + previous.expiresAt());
        if (previous.handedOver() || previous.dispatched()) {
            LOG.infof("job %s: %s; resuming it", jobId, why);
            resume(jobId, lease, why);
            return true;
        }
        // The run that starts next counts itself (JobRunner): failing here only spares it the start.
        int resume = job.resumes() + 1;
        if (resume > settings.maxResumes()) {
            LOG.errorf("job %s: %s; it was already resumed %d times", jobId, why, job.resumes());
            runner.failLeased(
                    jobId, lease, "stranded: " + why + "; " + JobRunner.tooManyResumes(settings.maxResumes()));
            return true;
        }
        LOG.warnf("job %s: %s; the lease reaper resumes it (%d of %d)", jobId, why, resume, settings.maxResumes());
        resume(jobId, lease, why + "; lease reaper resume " + resume + " of " + settings.maxResumes());
        return true;
    }

    /** Trains the job here (role all), or reserves the lease and requests the job for a worker (role api). */
    private void resume(String jobId, JobLease lease, String why) throws IOException {
        if (role.trains()) {
            runner.runLeased(jobId, lease, why);
            return;
        }
        if (!lease.reserveForDispatch(settings.dispatchWindow())) {
            LOG.infof("job %s: its lease moved on before it was reserved; nothing to request", jobId);
            return;
        }
        service.requestAgain(jobId, lease.generation());
        LOG.infof(
                "job %s: %s; requested again for a worker, its lease reserved for %s",
                jobId, why, settings.dispatchWindow());
    }
}
