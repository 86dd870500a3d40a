package dev.finetune.training.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.JobState;
import dev.finetune.events.TrainingEvent;
import dev.finetune.llm.train.DpoRecipe;
import dev.finetune.llm.train.Recipe;
import dev.finetune.llm.train.SftRecipe;
import dev.finetune.llm.train.StepMetrics;
import dev.finetune.llm.train.TrainConfig;
import dev.finetune.llm.train.TrainResult;
import dev.finetune.llm.train.TrainingListener;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.TrainingSettings;
import dev.finetune.training.job.JobEvents;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobStore;
import dev.finetune.training.job.RecipeConfigs;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Trains one job on this worker: take the lease, bring the base model, the training split and the
 * newest stored checkpoint to local disk, run the recipe, upload every checkpoint as it is written
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
    private final Phases phases;
    private final String workerId;

    JobRunner(
            JobStore jobs,
            JobEvents events,
            Artifacts artifacts,
            ObjectStore store,
            ObjectMapper json,
            TrainingSettings settings,
            Phases phases) {
        this.jobs = jobs;
        this.events = events;
        this.artifacts = artifacts;
        this.store = store;
        this.json = json;
        this.settings = settings;
        this.phases = phases;
        this.workerId = settings.workerId().orElseGet(JobRunner::hostName);
    }

    /** Runs the job if it is queued (or was running on a worker that died); anything else is left alone. */
    public void run(String jobId) throws IOException {
        JobRecord job = jobs.get(jobId).orElseThrow(() -> new IllegalStateException("no job " + jobId));
        if (job.state().isTerminal() || job.state() == JobState.VALIDATING) {
            LOG.infof("job %s is %s: nothing to run", jobId, job.state().code());
            return;
        }
        JobLease lease = new JobLease(store, json, jobId, workerId, settings.leaseTtl());
        if (!awaitLease(jobId, lease)) {
            return;
        }
        job = jobs.get(jobId).orElseThrow();
        if (job.state().isTerminal()) { // its previous worker finished it just before letting go
            lease.release();
            return;
        }
        ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor();
        AtomicReference<String> stopReason = new AtomicReference<>();
        try {
            if (job.cancelRequested()) {
                finish(jobId, JobState.CANCELLED, "cancelled before training started");
                return;
            }
            boolean resumed = job.state() == JobState.RUNNING;
            job = jobs.update(jobId, j -> j.withWorker(workerId).withState(JobState.RUNNING, null));
            events.state(jobId, JobState.RUNNING, (resumed ? "resumed on worker " : "started on worker ") + workerId);
            train(job, lease, renewer, stopReason);
        } catch (OutOfMemoryError e) {
            finish(
                    jobId,
                    JobState.FAILED,
                    "out of memory: " + e.getMessage()
                            + "; use qlora, a smaller batch size or max_seq_length, or a larger worker");
        } catch (IOException | RuntimeException e) {
            if (dev.finetune.errors.Failures.isRetriable(e)) {
                throw e; // the store or broker blinked: run again, resuming from the last checkpoint
            }
            LOG.errorf(e, "job %s failed", jobId);
            finish(jobId, JobState.FAILED, failureReason(e));
        } finally {
            renewer.shutdownNow();
            lease.release();
        }
    }

    private void train(
            JobRecord job, JobLease lease, ScheduledExecutorService renewer, AtomicReference<String> stopReason)
            throws IOException {
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
        Path trainFile = dataDir.resolve("train.jsonl");
        if (!Files.exists(trainFile)) {
            phases.run(
                    "load-data",
                    id,
                    () -> store.download(
                            ObjectKeys.preparedDataset(job.datasetName(), job.datasetVersion(), "train.jsonl"),
                            trainFile));
        }
        Path runDir = settings.workDir().resolve("runs").resolve(id);
        OptionalLong stored = artifacts.latestCheckpoint(id);
        if (stored.isPresent()) {
            phases.run("restore-checkpoint", id, () -> {
                artifacts.restoreCheckpoint(id, stored.getAsLong(), runDir);
                return null;
            });
            LOG.infof("job %s resumes from step %d", id, stored.getAsLong());
        }
        TrainConfig config = RecipeConfigs.of(job, model, trainFile, runDir);
        Recipe[] recipe = new Recipe[1];
        renewer.scheduleAtFixedRate(
                () -> keepAlive(id, lease, recipe, stopReason),
                settings.leaseTtl().toMillis() / 3,
                settings.leaseTtl().toMillis() / 3,
                TimeUnit.MILLISECONDS);
        Instant deadline = Instant.now().plus(settings.jobTimeout());
        TrainingListener listener = new Listener(job, recipe, stopReason, deadline);
        // libtorch's grad mode is per thread and on by default; DJL switches it off only on the thread
        // that started the engine. Gradients are recorded inside the recipe's collector scopes, so
        // this worker thread must start with it off like that one, or the optimizer's in-place
        // updates of leaf weights are refused.
        ai.djl.engine.Engine.getEngine("PyTorch"); // loads the native library before the JNI call below
        ai.djl.pytorch.jni.JniUtils.setGradMode(false);
        try (Recipe r = job.objective() == dev.finetune.events.Objective.DPO
                ? new DpoRecipe(config, listener)
                : new SftRecipe(config, listener)) {
            recipe[0] = r;
            LOG.infof(
                    "job %s trains on %s",
                    id, ai.djl.engine.Engine.getInstance().defaultDevice());
            TrainResult result = phases.run("train", id, () -> {
                r.setup();
                return r.train();
            });
            String reason = stopReason.get();
            if (reason != null && reason.startsWith("cancel")) {
                finish(id, JobState.CANCELLED, "cancelled at step " + result.step() + "; the last checkpoint is kept");
            } else if (reason != null) {
                finish(id, JobState.FAILED, reason);
            } else {
                String prefix = phases.run(
                        "upload-result",
                        id,
                        () -> artifacts.uploadCheckpoint(id, result.totalSteps(), result.output()));
                jobs.update(id, j -> j.withResult(prefix).withProgress(result.totalSteps(), result.totalSteps()));
                events.checkpoint(checkpointEvent(job, result.totalSteps(), result.totalSteps(), prefix, true));
                finish(
                        id,
                        JobState.SUCCEEDED,
                        "trained " + result.totalSteps() + " steps; final loss "
                                + String.format(java.util.Locale.ROOT, "%.4f", result.loss()));
            }
        }
    }

    /**
     * Takes the job's lease. We own the job's partition, so a lease held by another worker belongs
     * to one that died (or was paused) holding it: wait for it to expire rather than drop the job,
     * unless that worker finishes the job meanwhile. False if the job ended while we waited.
     */
    private boolean awaitLease(String jobId, JobLease lease) {
        while (!lease.acquire()) {
            JobRecord job = jobs.get(jobId).orElseThrow();
            if (job.state().isTerminal()) {
                LOG.infof("job %s ended on %s while we waited for its lease", jobId, job.worker());
                return false;
            }
            LOG.infof(
                    "job %s: lease held by %s; waiting for it to expire",
                    jobId, lease.read().worker());
            try {
                Thread.sleep(Math.max(500, settings.leaseTtl().toMillis() / 3));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Renews the lease and polls for cancellation, off the training thread. */
    private void keepAlive(String id, JobLease lease, Recipe[] recipe, AtomicReference<String> stopReason) {
        try {
            if (!lease.renew()) {
                stop(recipe, stopReason, "lease lost: another worker took the job over");
            } else if (jobs.get(id).map(JobRecord::cancelRequested).orElse(false)) {
                stop(recipe, stopReason, "cancel requested");
            }
        } catch (RuntimeException e) {
            LOG.warnf("job %s: lease renewal failed (%s); will retry", id, e.getMessage());
        }
    }

    private static void stop(Recipe[] recipe, AtomicReference<String> stopReason, String reason) {
        if (stopReason.compareAndSet(null, reason) && recipe[0] != null) {
            recipe[0].requestStop();
        }
    }

    private void finish(String id, JobState state, String message) {
        jobs.update(id, j -> j.withState(state, state == JobState.FAILED ? message : null));
        events.state(id, state, message);
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
                isFinal,
                Instant.now());
    }

    /** Turns the recipe's progress into job state and events. */
    private final class Listener implements TrainingListener {
        private final JobRecord job;
        private final Recipe[] recipe;
        private final AtomicReference<String> stopReason;
        private final Instant deadline;

        Listener(JobRecord job, Recipe[] recipe, AtomicReference<String> stopReason, Instant deadline) {
            this.job = job;
            this.recipe = recipe;
            this.stopReason = stopReason;
            this.deadline = deadline;
        }

        @Override
        public void onStart(int startStep, int totalSteps) {
            jobs.update(job.id(), j -> j.withProgress(startStep, totalSteps));
        }

        @Override
        public void onStep(StepMetrics m) {
            if (Instant.now().isAfter(deadline)) {
                stop(recipe, stopReason, "timed out after " + settings.jobTimeout() + " at step " + m.step());
            }
            if (m.step() % settings.metricsEverySteps() == 0 || m.step() == m.totalSteps()) {
                jobs.update(job.id(), j -> j.withProgress(m.step(), m.totalSteps()));
                events.metrics(
                        job.id(),
                        JobState.RUNNING,
                        new TrainingEvent.Metrics(
                                m.step(),
                                m.totalSteps(),
                                m.epoch(),
                                m.loss(),
                                m.learningRate(),
                                m.gradNorm(),
                                m.tokensPerSecond(),
                                m.eta().toMillis() / 1000.0));
            }
        }

        @Override
        public void onCheckpoint(int step, Path directory) {
            try {
                String prefix = phases.run(
                        "upload-checkpoint", job.id(), () -> artifacts.uploadCheckpoint(job.id(), step, directory));
                JobRecord j = jobs.update(job.id(), r -> r.withCheckpoint(step));
                events.checkpoint(checkpointEvent(job, step, j.totalSteps(), prefix, false));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("uploading checkpoint " + step + " of job " + job.id(), e);
            }
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
