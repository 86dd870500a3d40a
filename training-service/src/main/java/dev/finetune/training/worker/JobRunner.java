package dev.finetune.training.worker;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.errors.Failures;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.JobState;
import dev.finetune.events.RegisteredVersion;
import dev.finetune.events.TrainingEvent;
import dev.finetune.llm.model.Engines;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.train.EvalStrategy;
import dev.finetune.llm.train.Recipe;
import dev.finetune.llm.train.Recipes;
import dev.finetune.llm.train.StepMetrics;
import dev.finetune.llm.train.TrainConfig;
import dev.finetune.llm.train.TrainResult;
import dev.finetune.llm.train.TrainingListener;
import dev.finetune.service.retry.TransientRetry;
import dev.finetune.service.tracing.WorkContext;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.TrainingSettings;
import dev.finetune.training.job.JobEvents;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobStore;
import dev.finetune.training.job.RecipeConfigs;
import dev.finetune.training.job.RegisteredAdapters;
import dev.finetune.training.job.RegisteredRewardModels;
import dev.finetune.training.metrics.TrainingRunMetrics;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Trains one job on this worker: take the lease, bring the base model, the training split, the
 * registered adapter it continues from (init_adapter, verified) and the newest stored checkpoint to
 * local disk, run the recipe, upload every checkpoint as it is written
 * and the final adapter at the end, and record each step as events. A job whose worker died
 * resumes here from its last complete checkpoint and ends with the same total number of steps.
 */
@ApplicationScoped
public class JobRunner {
    private static final Logger LOG = Logger.getLogger(JobRunner.class);

    private final JobStore jobs;
    private final JobEvents events;
    private final Artifacts artifacts;
    private final ObjectStore store;
    private final ObjectMapper json;
    private final TrainingSettings settings;
    private final JobPhases phases;
    private final RegisteredAdapters adapters;
    private final String workerId;
    /** One job at a time per worker, from the queue or from the reaper. */
    private final Semaphore slot = new Semaphore(1);
    /** The job this worker trains now, for the shutdown to preempt; null between jobs. */
    private final AtomicReference<ActiveRun> active = new AtomicReference<>();
    /** Set when the shutdown begins: a job that starts afterwards is preempted before it trains. */
    private volatile boolean shuttingDown;
    /**
     * Jobs whose run here ended in a retriable failure (the store or broker away), which its record's
     * processing runs again in this process: that run resumes no run that died, so it is not counted
     * against {@code max-resumes}.
     */
    private final Set<String> retrying = ConcurrentHashMap.newKeySet();

    /** A run in progress: how to stop it, and when it has let its lease go. */
    private record ActiveRun(String jobId, RunControl control, CountDownLatch ended) {}

    @Inject
    TrainingRunMetrics metrics;

    @Inject
    WorkerWarmup warmup;

    @Inject
    OneJobPod pod;

    @Inject
    RegisteredRewardModels rewardModels;

    JobRunner(
            JobStore jobs,
            JobEvents events,
            Artifacts artifacts,
            ObjectStore store,
            ObjectMapper json,
            TrainingSettings settings,
            JobPhases phases,
            RegisteredAdapters adapters) {
        this.jobs = jobs;
        this.events = events;
        this.artifacts = artifacts;
        this.store = store;
        this.json = json;
        this.settings = settings;
        this.phases = phases;
        this.adapters = adapters;
        this.workerId = settings.workerId().orElseGet(JobRunner::hostName);
        if (settings.reportInterval().isNegative()) {
            throw new IllegalArgumentException(
                    "pipeline.training.report-interval must be 0s or more, got " + settings.reportInterval());
        }
    }

    /**
     * Runs the job if it is queued (or was running on a worker that died); anything else is left
     * alone. Waits for this worker's slot: a worker trains one job at a time, whether the job came
     * from {@code training.jobs} or from the lease reaper.
     */
    public void run(String jobId) throws IOException {
        JobRecord job = jobs.get(jobId).orElseThrow(() -> new IllegalStateException("no job " + jobId));
        if (job.state().isTerminal() || job.state() == JobState.VALIDATING) {
            LOG.infof("job %s is %s: nothing to run", jobId, job.state().code());
            return;
        }
        try {
            slot.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting to run job " + jobId);
        }
        try {
            warmup.awaitWarm(); // a worker's first job: its reporting path is compiled before it trains
            JobLease lease = lease(jobId);
            if (awaitLease(jobId, lease)) {
                runLeased(jobId, lease, null);
            }
        } finally {
            slot.release();
        }
    }

    /** This worker's one training slot, if it is free; the caller releases it. */
    boolean tryTakeSlot() {
        return slot.tryAcquire();
    }

    void releaseSlot() {
        slot.release();
    }

    /** A lease on {@code jobId} in this worker's name. */
    JobLease lease(String jobId) {
        return new JobLease(store, json, jobId, workerId, settings.leaseTtl());
    }

    /**
     * Trains the job under a lease this worker holds, then lets the lease go.
     *
     * @param takeover why the reaper took the job over, for its event; null when it came from the queue
     */
    void runLeased(String jobId, JobLease lease, String takeover) throws IOException {
        JobRecord job = jobs.get(jobId).orElseThrow();
        if (job.state().isTerminal()) { // its previous worker finished it just before letting go
            release(jobId, lease);
            return;
        }
        ScheduledExecutorService renewer = Executors.newScheduledThreadPool(2);
        RunControl control = new RunControl();
        ActiveRun run = new ActiveRun(jobId, control, new CountDownLatch(1));
        active.set(run);
        if (shuttingDown) {
            control.stop(StopReason.PREEMPTED);
        }
        try {
            if (jobs.cancelRequested(jobId)) {
                finish(jobId, JobState.CANCELLED, "cancelled before training started");
                return;
            }
            boolean resumed = job.state() == JobState.RUNNING;
            boolean ownRetry = retrying.remove(jobId) && takeover == null; // a reaper's takeover always counts
            if (resumed && !lease.followsHandOver() && !ownRetry) {
                // An earlier run ended without finishing the job and without handing it over: it died
                // (out of memory, a lost node). Counted whether its record was redelivered or the lease
                // reaper requested it again; with a pod per job, nothing else stops a job that kills
                // every pod it lands on from coming back for ever. Under the lease, so counted once.
                job = jobs.update(jobId, JobRecord::withResume);
                int limit = settings.reaper().maxResumes();
                if (job.resumes() > limit) {
                    LOG.errorf("job %s: resume %d of at most %d; failing it", jobId, job.resumes(), limit);
                    finish(jobId, JobState.FAILED, "its runs keep ending before it does; " + tooManyResumes(limit));
                    return;
                }
            }
            job = jobs.update(jobId, j -> j.withWorker(workerId).withState(JobState.RUNNING, null));
            events.state(
                    jobId,
                    JobState.RUNNING,
                    takeover != null
                            ? takeover + "; resumed on worker " + workerId
                            : (resumed ? "resumed on worker " : "started on worker ") + workerId);
            watch(jobId, lease, control, renewer);
            train(job, lease, control);
        } catch (OutOfMemoryError e) {
            finish(
                    jobId,
                    JobState.FAILED,
                    "out of memory: " + e.getMessage()
                            + "; use qlora, a smaller batch size or max_seq_length, or a larger worker");
        } catch (IOException | RuntimeException e) {
            if (control.stopReason().orElse(null) == StopReason.LEASE_LOST) {
                LOG.warnf("job %s: lost its lease and stopped (%s); its new holder finishes it", jobId, e.getMessage());
                return;
            }
            if (control.stopReason().orElse(null) == StopReason.PREEMPTED) {
                LOG.warnf(
                        "job %s: preempted, and its hand-over failed (%s); the next worker resumes it from its last"
                                + " stored checkpoint",
                        jobId, e.getMessage());
                return;
            }
            if (Failures.isRetriable(e)) {
                retrying.add(jobId);
                throw e; // the store or broker blinked: run again, resuming from the last checkpoint
            }
            LOG.errorf(e, "job %s failed", jobId);
            finish(jobId, JobState.FAILED, failureReason(e));
        } finally {
            renewer.shutdownNow();
            metrics.ended(jobId);
            release(jobId, lease, control.stopReason().orElse(null) == StopReason.PREEMPTED);
            run.ended().countDown();
            active.compareAndSet(run, null);
        }
    }

    /**
     * On SIGTERM (a node drain, a spot reclaim, a rolling update), before anything else shuts down:
     * the running job stops after the micro-batch in progress, its last whole step is checkpointed
     * and uploaded, and its lease is handed over, so another worker resumes it from that step
     * (within its lease reaper's interval, or at once if the job's record is redelivered to it).
     * Waits for that at most {@code pipeline.training.preemption-grace}, which must fit in the pod's
     * termination grace period; past it, the job resumes from its last stored checkpoint once the
     * lease expires, as after a crash.
     */
    void preemptOnShutdown(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent shutdown) {
        shuttingDown = true;
        ActiveRun run = active.get();
        if (run == null) {
            return;
        }
        LOG.infof("job %s: the worker is shutting down; checkpointing and handing the job over", run.jobId());
        run.control().stop(StopReason.PREEMPTED);
        try {
            if (!run.ended().await(settings.preemptionGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warnf(
                        "job %s: not handed over within %s (pipeline.training.preemption-grace); it resumes from"
                                + " its last stored checkpoint once its lease expires",
                        run.jobId(), settings.preemptionGrace());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Why a job that would start its {@code limit + 1}-th resume is failed instead. */
    static String tooManyResumes(int limit) {
        return "it was resumed " + limit + " times after runs that died before the job ended (a crash, out of"
                + " memory, a lost pod) and is not resumed again (pipeline.training.reaper.max-resumes); the"
                + " workers' logs say why its runs died";
    }

    /** Fails a job under a lease this worker holds, without training it, then lets the lease go. */
    void failLeased(String jobId, JobLease lease, String reason) {
        try {
            finish(jobId, JobState.FAILED, reason);
        } finally {
            release(jobId, lease);
        }
    }

    /**
     * Gives the lease up, riding out a store outage within the retry budget; if that fails too, the
     * lease simply expires after its TTL, and the failure must not hide how the run ended.
     */
    private void release(String jobId, JobLease lease) {
        release(jobId, lease, false);
    }

    /** As {@link #release(String, JobLease)}; {@code handedOver} when the job stopped for a shutdown. */
    private void release(String jobId, JobLease lease, boolean handedOver) {
        try {
            retried(jobId, "lease release", () -> {
                lease.release(handedOver);
                return null;
            });
        } catch (IOException | RuntimeException e) {
            LOG.warnf("job %s: the lease could not be released (%s); it expires on its own", jobId, e.getMessage());
        }
    }

    /**
     * An end-of-run or checkpoint write, retried through an outage of the store or the broker
     * ({@link TransientRetry}): a job that trained to the end must not be stranded in {@code running}
     * because its last writes met a short outage. Each write is idempotent (same keys, same event ids).
     */
    private <T> T retried(String jobId, String what, TransientRetry.Action<T> write) throws IOException {
        try {
            return TransientRetry.call("job " + jobId + ": " + what, write);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted during " + what + " of job " + jobId);
        } catch (Exception e) {
            throw new IOException(what + " of job " + jobId + " failed: " + e.getMessage(), e);
        }
    }

    private void train(JobRecord job, JobLease lease, RunControl control) throws IOException {
        String id = job.id();
        Path model = phases.run(
                "load-model",
                id,
                () -> artifacts.downloadPrefix(
                        ObjectKeys.baseModelPrefix(job.baseModel()),
                        settings.workDir().resolve("models").resolve(job.baseModel())));
        Path dataDir = settings.workDir()
                .resolve("datasets")
                .resolve(job.datasetName())
                .resolve(job.datasetVersion());
        Path trainFile = split(job, dataDir, "train.jsonl");
        TrainConfig config = RecipeConfigs.of(
                job, model, trainFile, null, settings.workDir().resolve("runs").resolve(id));
        if (config.evaluation().strategy() != EvalStrategy.NO) {
            config = config.withValidationFile(split(job, dataDir, "validation.jsonl"));
        }
        Optional<RegisteredVersion> parent = RegisteredAdapters.parent(job);
        if (parent.isPresent()) {
            RegisteredVersion version = parent.get();
            Path adapter = phases.run(
                    "load-adapter",
                    id,
                    () -> adapters.download(
                            version,
                            settings.workDir()
                                    .resolve("adapters")
                                    .resolve(version.model())
                                    .resolve(Long.toString(version.version()))));
            config = config.with(Settings.INIT_ADAPTER, adapter.toString());
        }
        if (RegisteredRewardModels.rewardModel(job).isPresent()) {
            List<String> rewards = phases.run(
                    "load-reward-models",
                    id,
                    () -> rewardModels.download(job, settings.workDir().resolve("reward-models")));
            config = config.with(Settings.REWARD_FUNCS, rewards);
        }
        Path runDir = config.outputDir();
        OptionalLong stored = artifacts.latestCheckpoint(id);
        if (stored.isPresent()) {
            phases.run("restore-checkpoint", id, () -> artifacts.restoreCheckpoint(id, stored.getAsLong(), runDir));
            if (config.evaluation().loadBestModelAtEnd()) {
                restoreBestCheckpoint(id, stored.getAsLong(), runDir);
            }
            LOG.infof("job %s resumes from step %d", id, stored.getAsLong());
            if (stored.getAsLong() > job.lastCheckpointStep()) {
                // Uploaded, but its worker died before announcing it: announce it now, once (its event
                // id is derived from the step, so a repeat is dropped by consumers).
                announceCheckpoint(job, stored.getAsLong(), ObjectKeys.checkpointPrefix(id, stored.getAsLong()), false);
            }
        }
        // Every path to training passes here (the queue's, and the lease reaper's, which does not go
        // through run): the engine collects gradients for one training at a time, so a job never trains
        // beside the worker's warm-up, whose training it stops after 30 s at most.
        warmup.awaitWarm();
        Instant deadline = Instant.now().plus(settings.jobTimeout());
        Device device = Engines.trainingThread(); // grad mode as the recipe expects it on this thread
        LOG.infof("job %s trains on %s", id, device);
        Outlet outlet = new Outlet(job);
        try (JobReporter reporter = new JobReporter(
                id,
                outlet,
                settings.reportInterval(),
                settings.workDir().resolve("uploads").resolve(id))) {
            Listener listener = new Listener(job, control, deadline, reporter, outlet);
            try (Recipe recipe = Recipes.create(config, listener)) {
                control.attach(recipe);
                TrainResult result = phases.run("train", id, () -> {
                    recipe.setup();
                    return recipe.train();
                });
                if (control.stopReason().orElse(null) == StopReason.PREEMPTED
                        && !result.completed()
                        && result.step() > listener.checkpointed) {
                    recipe.saveCheckpoint(); // the last whole step: the next worker resumes from it
                }
                finishRun(job, config, lease, control, reporter, result);
            }
        }
    }

    /** After training returned: the last uploads, then the result, or how the run was stopped. */
    private void finishRun(
            JobRecord job,
            TrainConfig config,
            JobLease lease,
            RunControl control,
            JobReporter reporter,
            TrainResult result)
            throws IOException {
        String id = job.id();
        reporter.finish(); // the last checkpoint uploaded and announced, the last progress reported
        if (control.stopReason().isEmpty() && !renewed(id, lease)) {
            control.stop(StopReason.LEASE_LOST); // the job moved on while we trained: its result is not ours to write
        }
        // A shutdown that came after the last step preempts nothing: the result is written as usual.
        Optional<StopReason> stopped =
                control.stopReason().filter(r -> !(r == StopReason.PREEMPTED && result.completed()));
        if (stopped.isPresent()) {
            stopped(id, stopped.get(), result);
            return;
        }
        // the last step trained: the total, or where early stopping ended the run
        int last = result.stoppedEarly() ? result.step() : result.totalSteps();
        String prefix = phases.run(
                "upload-result",
                id,
                () -> retried(id, "result upload", () -> artifacts.uploadCheckpoint(id, last, result.output())));
        retried(
                id,
                "result record",
                () -> jobs.update(id, j -> j.withResult(prefix).withProgress(last, result.totalSteps())));
        CheckpointCreated announced = checkpointEvent(job, last, result.totalSteps(), prefix, true);
        retried(id, "final checkpoint event", () -> {
            events.checkpoint(announced);
            return null;
        });
        finish(id, JobState.SUCCEEDED, succeeded(config, result));
    }

    /**
     * Takes the job's lease. We own the job's partition, so a lease held by another worker belongs
     * to one that died (or was paused) holding it: wait for it to expire rather than drop the job,
     * unless that worker finishes the job meanwhile. False if the job ended while we waited, or, in
     * one-job mode, if its holder still renews it after {@code worker.live-lease-wait}: the holder is
     * alive and trains it ({@link OneJobPod}, step 5).
     */
    private boolean awaitLease(String jobId, JobLease lease) {
        Instant leaveAt = Instant.now().plus(pod.liveLeaseWait());
        while (!lease.acquire()) {
            JobRecord job = jobs.get(jobId).orElseThrow();
            if (job.state().isTerminal()) {
                LOG.infof("job %s ended on %s while we waited for its lease", jobId, job.worker());
                return false;
            }
            if (pod.leavesLiveLeases() && Instant.now().isAfter(leaveAt)) {
                LOG.infof(
                        "job %s: worker %s still holds its lease after %s; it trains the job, this pod leaves it",
                        jobId, lease.current().map(g -> g.holder().worker()).orElse("(none)"), pod.liveLeaseWait());
                return false;
            }
            LOG.infof(
                    "job %s: lease held by %s; waiting for it to expire",
                    jobId, lease.current().map(g -> g.holder().worker()).orElse("(none)"));
            try {
                Thread.sleep(Math.max(500, settings.leaseTtl().toMillis() / 3));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** A split of the job's prepared dataset version on local disk, downloaded unless it is there. */
    private Path split(JobRecord job, Path dataDir, String name) throws IOException {
        Path file = dataDir.resolve(name);
        if (!Files.exists(file)) {
            phases.run(
                    "load-data",
                    job.id(),
                    () -> store.download(
                            ObjectKeys.preparedDataset(job.datasetName(), job.datasetVersion(), name), file));
        }
        return file;
    }

    /** How a job that trained to its end (or stopped early) says so. */
    private static String succeeded(TrainConfig config, TrainResult result) {
        String loss = String.format(java.util.Locale.ROOT, "final loss %.4f", result.loss());
        String best = result.bestMetric() == null
                ? ""
                : String.format(
                        java.util.Locale.ROOT,
                        "; best %s %.4f at %s%s",
                        config.evaluation().metricForBestModel(),
                        result.bestMetric(),
                        result.bestCheckpoint() == null
                                ? "an unsaved step"
                                : result.bestCheckpoint().getFileName(),
                        config.evaluation().loadBestModelAtEnd() ? ", whose weights are the result" : "");
        if (result.stoppedEarly()) {
            return "stopped early at step " + result.step() + " of " + result.totalSteps() + ": "
                    + config.evaluation().earlyStoppingPatience() + " evaluations in a row did not improve "
                    + config.evaluation().metricForBestModel() + "; " + loss + best;
        }
        return "trained " + result.totalSteps() + " steps; " + loss + best;
    }

    /**
     * Brings the best checkpoint beside the newest, for load_best_model_at_end to load at the end:
     * the newest one's manifest names its step (rotation never deleted it from the store).
     */
    private void restoreBestCheckpoint(String id, long latest, Path runDir) throws IOException {
        Path manifest = runDir.resolve("checkpoint-" + latest).resolve(Artifacts.MANIFEST);
        com.fasterxml.jackson.databind.JsonNode best =
                json.readTree(manifest.toFile()).path("best_global_step");
        if (best.isIntegralNumber() && best.asLong() != latest) {
            long step = best.asLong();
            phases.run("restore-checkpoint", id, () -> artifacts.restoreCheckpoint(id, step, runDir));
            LOG.infof("job %s: restored its best checkpoint, step %d", id, step);
        }
    }

    /** Ends a job whose training stopped early: cancelled as asked, or failed. */
    private void stopped(String id, StopReason reason, TrainResult result) {
        switch (reason) {
            case CANCELLED -> finish(
                    id, JobState.CANCELLED, "cancelled at step " + result.step() + "; the last checkpoint is kept");
            case LEASE_LOST -> LOG.warnf(
                    "job %s: lease lost at step %d: another worker took the job over and records how it ends",
                    id, result.step());
            case TIMEOUT -> finish(
                    id, JobState.FAILED, "timed out after " + settings.jobTimeout() + " at step " + result.step());
            case PREEMPTED -> preempted(id, result);
        }
    }

    /** Says, as the job's event, that it was preempted at its last checkpoint and moves on. */
    private void preempted(String id, TrainResult result) {
        try {
            events.state(
                    id,
                    JobState.RUNNING,
                    "preempted at step " + result.step() + ": worker " + workerId + " is shutting down; step "
                            + result.step() + " is checkpointed and another worker resumes the job");
        } catch (RuntimeException e) { // the broker may be gone already: the hand-over does not depend on it
            LOG.warnf(
                    "job %s: preempted at step %d; its event could not be sent (%s)",
                    id, result.step(), e.getMessage());
        }
    }

    /**
     * Off the training thread: renews the lease every third of its TTL, and looks for a cancel
     * request every {@code cancel-check-interval}. The training loop sees a stop between two
     * micro-batches, so a cancel takes effect within that interval plus one micro-batch, however long
     * an optimizer step is, and the training thread itself never waits on the object store. Both log
     * in the job's work context.
     */
    private void watch(String id, JobLease lease, RunControl control, ScheduledExecutorService executor) {
        long renewEvery = settings.leaseTtl().toMillis() / 3;
        executor.scheduleWithFixedDelay(
                WorkContext.propagate(() -> {
                    if (!renewed(id, lease)) {
                        control.stop(StopReason.LEASE_LOST);
                    }
                }),
                renewEvery,
                renewEvery,
                TimeUnit.MILLISECONDS);
        long cancelEvery = settings.cancelCheckInterval().toMillis();
        executor.scheduleWithFixedDelay(
                WorkContext.propagate(() -> {
                    try {
                        if (jobs.cancelRequested(id)) {
                            control.stop(StopReason.CANCELLED);
                        }
                    } catch (RuntimeException e) {
                        LOG.warnf("job %s: cancel check failed (%s); will retry", id, e.getMessage());
                    }
                }),
                cancelEvery,
                cancelEvery,
                TimeUnit.MILLISECONDS);
    }

    /** Renews the lease: false only if another worker took it; a store that is away is tried again later. */
    private boolean renewed(String id, JobLease lease) {
        try {
            return lease.renew();
        } catch (RuntimeException e) {
            LOG.warnf("job %s: lease renewal failed (%s); will retry", id, e.getMessage());
            return true;
        }
    }

    /** Records how the job ended, then announces it; each write retried through an outage. */
    private void finish(String id, JobState state, String message) {
        try {
            retried(
                    id,
                    "final state",
                    () -> jobs.update(id, j -> j.withState(state, state == JobState.FAILED ? message : null)));
            retried(id, "final state event", () -> {
                events.state(id, state, message);
                return null;
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        LOG.infof("job %s %s: %s", id, state.code(), message);
    }

    private CheckpointCreated checkpointEvent(JobRecord job, long step, long total, String prefix, boolean isFinal) {
        return new CheckpointCreated(
                job.id(),
                step,
                total,
                prefix,
                job.baseModel(),
                job.datasetName(),
                job.datasetVersion(),
                job.method(),
                job.objective(),
                RegisteredAdapters.parent(job).orElse(null),
                RegisteredRewardModels.rewardModel(job).orElse(null),
                CheckpointCreated.rewardsOf(job.hyperparameters()),
                isFinal,
                Instant.now());
    }

    /**
     * Records an uploaded checkpoint (record, then event), each write retried through an outage. The
     * last step's checkpoint is where the final result is exported next, and that is announced once,
     * as final: a second, non-final event for it would be evaluated twice.
     */
    private void announceCheckpoint(JobRecord job, long step, String prefix, boolean last) throws IOException {
        JobRecord j = retried(
                job.id(), "checkpoint " + step + " record", () -> jobs.update(job.id(), r -> r.withCheckpoint(step)));
        if (step >= j.totalSteps() || last) {
            return;
        }
        CheckpointCreated created = checkpointEvent(job, step, j.totalSteps(), prefix, false);
        retried(job.id(), "checkpoint " + step + " event", () -> {
            events.checkpoint(created);
            return null;
        });
    }

    /**
     * Turns the recipe's progress into reports, on the training thread: hands each step and
     * checkpoint to the run's {@link JobReporter} and returns at once.
     */
    private final class Listener implements TrainingListener {
        private final JobRecord job;
        private final RunControl control;
        private final Instant deadline;
        private final JobReporter reporter;
        private final Outlet outlet;
        private StepMetrics lastStep;
        /** The step of the newest checkpoint of this run (where it resumed from, at first). */
        private int checkpointed;

        Listener(JobRecord job, RunControl control, Instant deadline, JobReporter reporter, Outlet outlet) {
            this.job = job;
            this.control = control;
            this.deadline = deadline;
            this.reporter = reporter;
            this.outlet = outlet;
        }

        @Override
        public void onStart(int startStep, int totalSteps) {
            checkpointed = startStep;
            metrics.started(job, startStep, totalSteps);
            jobs.update(job.id(), j -> j.withProgress(startStep, totalSteps));
        }

        @Override
        public void onStep(StepMetrics m) {
            metrics.step(job.id(), m);
            lastStep = m;
            if (Instant.now().isAfter(deadline)) {
                control.stop(StopReason.TIMEOUT);
            }
            reporter.progress(m);
        }

        @Override
        public void onEvaluate(int step, double epoch, Map<String, Double> evaluation) {
            metrics.evaluation(job.id(), evaluation);
            if (lastStep != null && lastStep.step() == step) {
                try {
                    reporter.evaluation(lastStep, evaluation);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException("reporting the evaluation of job " + job.id(), e);
                }
            }
        }

        @Override
        public void onStoppingEarly(int step) {
            outlet.lastStep = step; // its checkpoint is announced once, as final, after the result
        }

        @Override
        public void onCheckpoint(int step, Path directory) {
            checkpointed = step;
            try {
                reporter.checkpoint(step, directory);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("staging checkpoint " + step + " of job " + job.id(), e);
            }
        }
    }

    /** Where the reporter thread sends a run's progress and the uploader thread its checkpoints. */
    private final class Outlet implements JobReporter.Outlet {
        private final JobRecord job;
        /** The step early stopping ended the run at, set on the training thread; -1 until then. */
        private volatile long lastStep = -1;

        Outlet(JobRecord job) {
            this.job = job;
        }

        @Override
        public void progress(StepMetrics m) {
            evaluation(m, null);
        }

        @Override
        public void evaluation(StepMetrics m, Map<String, Double> evaluation) {
            events.metrics(
                    job.id(),
                    new TrainingEvent.Metrics(
                            m.step(),
                            m.totalSteps(),
                            m.epoch(),
                            m.loss(),
                            m.learningRate(),
                            m.gradNorm(),
                            m.tokensPerSecond(),
                            m.eta().toMillis() / 1000.0,
                            evaluation,
                            m.objectiveMetrics()));
        }

        @Override
        public String upload(int step, Path directory) throws IOException {
            return phases.run(
                    "upload-checkpoint",
                    job.id(),
                    () -> retried(
                            job.id(),
                            "checkpoint " + step + " upload",
                            () -> artifacts.uploadCheckpoint(job.id(), step, directory)));
        }

        @Override
        public void announce(int step, String prefix) throws IOException {
            announceCheckpoint(job, step, prefix, step == lastStep);
        }
    }

    /** A reason a person can act on: out-of-memory is named as such, anything else keeps its message. */
    static String failureReason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            if (message.contains("out of memory") || message.contains("can't allocate memory")) {
                return "out of memory while training: "
                        + message.lines().findFirst().orElse("")
                        + "; use qlora, a smaller batch size or max_seq_length, or a larger worker";
            }
        }
        return e.getClass().getSimpleName() + ": "
                + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
    }

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName() + "-"
                    + ProcessHandle.current().pid();
        } catch (IOException e) {
            return "worker-" + ProcessHandle.current().pid();
        }
    }
}
