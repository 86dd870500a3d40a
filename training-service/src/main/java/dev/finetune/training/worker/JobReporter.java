package dev.finetune.training.worker;

import dev.finetune.errors.Failures;
import dev.finetune.llm.train.StepMetrics;
import dev.finetune.service.tracing.WorkContext;
import io.opentelemetry.context.Context;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Takes one job run's reporting off the training thread. The training thread only hands things
 * over; two threads of this run do the slow work:
 *
 * <ol>
 *   <li>Progress goes into a bounded queue and never waits: when the queue is full, the older
 *       progress in it is dropped, since only the newest counts. The reporter thread reports the
 *       newest progress at most once every {@code interval}, and at once for the last step, after
 *       each checkpoint and when the run finishes.
 *   <li>A checkpoint's files are hard-linked into a staging directory (so the recipe's
 *       {@code save_total_limit} rotation cannot delete them mid-upload), then uploaded by the
 *       uploader thread while the next steps train. When the upload of step k is complete (manifest
 *       last), the reporter thread announces step k (record, then event): never before. At most one
 *       upload is in flight: the next checkpoint waits for the previous upload, which bounds the disk
 *       the staging holds when the store is slower than training.
 *   <li>{@link #finish} waits for the pending upload and announcement and sends the last progress;
 *       a failure of either (after {@link Outlet}'s own retries) is thrown to the training thread at
 *       its next step, checkpoint or finish, so the run ends as it would have had it failed there.
 * </ol>
 *
 * Reports leave in order (one reporter thread), so the job's events stay in step order.
 */
final class JobReporter implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(JobReporter.class);
    /** Progress waiting for the reporter; it only ever reports the newest, so a few suffice. */
    static final int QUEUE_CAPACITY = 64;
    /**
     * The least time between a failed progress report and the next try, whatever the report interval
     * (which may be 0): an outage of the store is waited out, not met with a loop of failing calls and
     * a warning for each.
     */
    static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(1);

    /** Where reports and uploads go: the job's record, its events and the object store. */
    interface Outlet {
        /**
         * Reports progress (record and event). A transient failure ({@link Failures#isRetriable}) is
         * logged and the progress is tried again at the next report; any other ends the run.
         */
        void progress(StepMetrics metrics);

        /**
         * Reports an evaluated step's progress with the validation metrics (as {@link #progress} fails);
         * by default as plain progress.
         */
        default void evaluation(StepMetrics metrics, Map<String, Double> evaluation) {
            progress(metrics);
        }

        /** Uploads checkpoint {@code step} from {@code directory}, manifest last; returns its prefix. */
        String upload(int step, Path directory) throws IOException;

        /** Announces an uploaded checkpoint (record, then event). */
        void announce(int step, String prefix) throws IOException;
    }

    private sealed interface Report {}

    private record Progress(StepMetrics metrics) implements Report {}

    private record Evaluated(StepMetrics metrics, Map<String, Double> evaluation) implements Report {}

    private record Uploaded(int step, String prefix) implements Report {}

    private record Finish() implements Report {}

    private final String jobId;
    private final Outlet outlet;
    private final long intervalNanos;
    private final Path staging;
    private final BlockingQueue<Report> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final ExecutorService reporter;
    private final ExecutorService uploader;
    private final CompletableFuture<Void> reported = new CompletableFuture<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Context context;
    private CompletableFuture<Void> upload = CompletableFuture.completedFuture(null);
    private boolean finished;

    /**
     * @param staging a directory of this run's own on the checkpoints' file system (hard links);
     *     whatever is in it is removed first
     */
    JobReporter(String jobId, Outlet outlet, Duration interval, Path staging) throws IOException {
        this.jobId = jobId;
        this.outlet = outlet;
        this.intervalNanos = interval.toNanos();
        this.staging = staging;
        deleteRecursively(staging); // a crashed run's leftovers
        Files.createDirectories(staging);
        this.reporter = Executors.newSingleThreadExecutor(task -> daemon(task, "reporter-" + jobId));
        this.uploader = Executors.newSingleThreadExecutor(task -> daemon(task, "uploader-" + jobId));
        // Both threads work in the trace of the run that made this reporter: an upload's span and an
        // event's producer span belong to the job's trace, not to traces of their own.
        this.context = Context.current();
        reporter.execute(WorkContext.propagate(context, this::report));
    }

    /** Hands a step's progress over; never blocks. Throws a failure of earlier reporting work. */
    void progress(StepMetrics metrics) {
        rethrowFailure();
        Progress progress = new Progress(metrics);
        if (!queue.offer(progress)) {
            // Full: the reporter is behind (the store or broker is slow). Older progress is stale.
            queue.removeIf(Progress.class::isInstance);
            if (!queue.offer(progress)) {
                LOG.debugf("job %s: progress at step %d dropped, the report queue is full", jobId, metrics.step());
            }
        }
    }

    /**
     * Hands an evaluated step over: reported at once and never dropped (evaluations are few, and a
     * curve of them must have every point). Blocks only while the queue is full of other reports.
     */
    void evaluation(StepMetrics metrics, Map<String, Double> evaluation) throws InterruptedIOException {
        rethrowFailure();
        Evaluated evaluated = new Evaluated(metrics, evaluation);
        if (!queue.offer(evaluated)) {
            queue.removeIf(Progress.class::isInstance);
            try {
                queue.put(evaluated);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(
                        "interrupted while reporting the evaluation at step " + metrics.step());
            }
        }
    }

    /**
     * Stages checkpoint {@code step} and starts its upload; returns once its files are safe from
     * rotation. Waits only if the previous checkpoint is still uploading.
     */
    void checkpoint(int step, Path directory) throws IOException {
        awaitUpload();
        Path staged = stage(step, directory);
        upload = CompletableFuture.runAsync(
                WorkContext.propagate(context, () -> {
                    try {
                        String prefix = outlet.upload(step, staged);
                        deleteRecursively(staged);
                        queue.put(new Uploaded(step, prefix));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while uploading checkpoint " + step, e);
                    }
                }),
                uploader);
        upload.whenComplete((ignored, e) -> {
            if (e != null) {
                fail(e instanceof java.util.concurrent.CompletionException ? e.getCause() : e);
            }
        });
    }

    /**
     * Waits until every checkpoint handed over is uploaded and announced and the newest progress is
     * reported; throws the first failure of that work.
     */
    void finish() throws IOException {
        if (!finished) {
            finished = true;
            awaitUpload();
            try {
                queue.put(new Finish());
                reported.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while job " + jobId + " finished its reporting");
            } catch (ExecutionException e) {
                fail(e.getCause());
            }
        }
        rethrowFailure();
    }

    /** Stops both threads; a run that ends without {@link #finish} (it failed) waits for nothing. */
    @Override
    public void close() {
        reporter.shutdownNow();
        uploader.shutdownNow();
        try {
            uploader.awaitTermination(10, TimeUnit.SECONDS);
            deleteRecursively(staging);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.warnf("job %s: staging directory %s not removed (%s)", jobId, staging, e.getMessage());
        }
    }

    /** The reporter thread: reports the newest progress when it is due, announces uploads in order. */
    private void report() {
        StepMetrics pending = null;
        long lastReport = System.nanoTime() - intervalNanos; // the first step is reported at once
        long nextAfter = intervalNanos; // after lastReport; longer after a failed report
        int failedReports = 0; // in a row
        try {
            while (true) {
                long wait = pending == null ? Long.MAX_VALUE : lastReport + nextAfter - System.nanoTime();
                Report next = wait <= 0 ? queue.poll() : queue.poll(wait, TimeUnit.NANOSECONDS);
                boolean now = false;
                if (next instanceof Progress p) {
                    pending = newer(pending, p.metrics());
                    now = p.metrics().step() >= p.metrics().totalSteps();
                } else if (next instanceof Evaluated e) {
                    if (pending != null && pending.step() <= e.metrics().step()) {
                        pending = null; // the evaluated step's report supersedes it
                    }
                    sendEvaluation(e);
                } else if (next instanceof Uploaded u) {
                    outlet.announce(u.step(), u.prefix());
                    now = true;
                } else if (next instanceof Finish) {
                    if (pending != null) {
                        sendProgress(pending);
                    }
                    reported.complete(null);
                    return;
                }
                if (pending != null && (now || System.nanoTime() - lastReport >= nextAfter)) {
                    if (sendProgress(pending)) {
                        if (failedReports > 0) {
                            LOG.infof(
                                    "job %s: progress reported again at step %d, after %d failed attempt(s)",
                                    jobId, pending.step(), failedReports);
                        }
                        failedReports = 0;
                        nextAfter = intervalNanos;
                        pending = null;
                    } else { // tried again after an interval, and never sooner than RETRY_AFTER_FAILURE
                        failedReports++;
                        nextAfter = Math.max(intervalNanos, RETRY_AFTER_FAILURE.toNanos());
                    }
                    lastReport = System.nanoTime();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reported.completeExceptionally(e);
        } catch (IOException | RuntimeException e) {
            fail(e);
            reported.completeExceptionally(e);
        }
    }

    /** Whether the report went out; a transient failure is logged, any other thrown. */
    private boolean sendProgress(StepMetrics metrics) {
        try {
            outlet.progress(metrics);
            return true;
        } catch (RuntimeException e) {
            if (!Failures.isRetriable(e)) {
                throw e;
            }
            LOG.warnf(
                    "job %s: progress at step %d not reported (%s); tried again with the next report, %d s or more later",
                    jobId, metrics.step(), e.getMessage(), RETRY_AFTER_FAILURE.toSeconds());
            return false;
        }
    }

    /** Sends an evaluated step's report; a transient failure is logged (the evaluation is in the checkpoints). */
    private void sendEvaluation(Evaluated evaluated) {
        try {
            outlet.evaluation(evaluated.metrics(), evaluated.evaluation());
        } catch (RuntimeException e) {
            if (!Failures.isRetriable(e)) {
                throw e;
            }
            LOG.warnf(
                    "job %s: evaluation at step %d not reported (%s); trainer_state.json keeps it",
                    jobId, evaluated.metrics().step(), e.getMessage());
        }
    }

    /** The later of two progress reports (a failed one may be older than what came since). */
    private static StepMetrics newer(StepMetrics pending, StepMetrics next) {
        return pending == null || next.step() >= pending.step() ? next : pending;
    }

    private void awaitUpload() throws IOException {
        try {
            upload.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a checkpoint upload of job " + jobId);
        } catch (ExecutionException e) {
            fail(e.getCause());
            rethrowFailure();
        }
    }

    /** Hard links to the checkpoint's files (a copy where links are not possible): rotation-proof. */
    private Path stage(int step, Path directory) throws IOException {
        Path target = staging.resolve("checkpoint-" + step);
        deleteRecursively(target);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(directory)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        for (Path file : files) {
            Path link = target.resolve(directory.relativize(file).toString());
            Files.createDirectories(link.getParent());
            try {
                Files.createLink(link, file);
            } catch (UnsupportedOperationException | FileSystemException e) {
                Files.copy(file, link);
            }
        }
        return target;
    }

    private void fail(Throwable e) {
        if (failure.compareAndSet(null, e)) {
            LOG.errorf("job %s: reporting failed: %s", jobId, e.getMessage());
        }
    }

    private void rethrowFailure() {
        Throwable e = failure.get();
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error error) {
            throw error;
        }
        if (e instanceof IOException io) {
            throw new UncheckedIOException(io.getMessage(), io);
        }
        if (e != null) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static Thread daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true); // a run cut short by shutdown resumes elsewhere from its last checkpoint
        return thread;
    }

    static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
