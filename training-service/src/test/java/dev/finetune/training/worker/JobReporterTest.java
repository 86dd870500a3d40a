package dev.finetune.training.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.finetune.llm.train.StepMetrics;
import dev.finetune.service.tracing.WorkContext;
import dev.finetune.storage.ObjectStoreException;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.jboss.logging.Logger;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reporter's promises to the training thread, with an outlet that records what it is asked to
 * do and can be made slow or failing: handing over never waits, progress is throttled to the
 * interval, a checkpoint is announced only after its upload, rotation cannot pull a checkpoint out
 * from under its upload, and finishing waits for all of it.
 */
class JobReporterTest {
    @TempDir
    Path dir;

    /** Records calls in order, as "progress 5", "upload 3", "announce 3". */
    static class RecordingOutlet implements JobReporter.Outlet {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        /** Progress reports tried, failed ones included. */
        final AtomicInteger progressAttempts = new AtomicInteger();

        volatile Duration progressTakes = Duration.ZERO;
        volatile Duration uploadTakes = Duration.ZERO;
        volatile RuntimeException progressFails;
        final List<String> uploadedFiles = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void progress(StepMetrics metrics) {
            progressAttempts.incrementAndGet();
            sleep(progressTakes);
            if (progressFails != null) {
                throw progressFails;
            }
            calls.add("progress " + metrics.step());
        }

        @Override
        public String upload(int step, Path directory) throws IOException {
            sleep(uploadTakes);
            try (var files = Files.list(directory)) {
                for (Path file : files.toList()) {
                    uploadedFiles.add(step + ":" + file.getFileName() + "=" + Files.readString(file));
                }
            }
            calls.add("upload " + step);
            return "checkpoints/job/step-" + step + "/";
        }

        @Override
        public void announce(int step, String prefix) {
            calls.add("announce " + step);
        }

        List<String> snapshot() {
            synchronized (calls) {
                return List.copyOf(calls);
            }
        }

        private static void sleep(Duration d) {
            try {
                Thread.sleep(d.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static StepMetrics step(int step, int total) {
        return new StepMetrics(
                step, total, 0, 1.0, 1e-4, 1.0, 100, Duration.ZERO, Duration.ZERO, Duration.ZERO, Map.of());
    }

    @Test
    void handingProgressOverNeverWaitsForASlowOutletAndOnlyTheNewestIsReported() throws Exception {
        RecordingOutlet outlet = new RecordingOutlet();
        outlet.progressTakes = Duration.ofMillis(500); // the store or broker crawling
        try (JobReporter reporter = new JobReporter("job", outlet, Duration.ZERO, dir.resolve("staging"))) {
            long start = System.nanoTime();
            for (int s = 1; s <= 5000; s++) {
                reporter.progress(step(s, 5000));
            }
            Duration handOver = Duration.ofNanos(System.nanoTime() - start);
            assertThat(handOver).as("5000 steps handed over in").isLessThan(Duration.ofMillis(400));
            reporter.finish();
        }
        List<String> calls = outlet.snapshot();
        assertThat(calls).as("coalesced: far fewer reports than steps").hasSizeLessThan(10);
        assertThat(calls).last().isEqualTo("progress 5000");
    }

    @Test
    void progressIsReportedAtMostOncePerIntervalAndAlwaysAtTheLastStep() throws Exception {
        RecordingOutlet outlet = new RecordingOutlet();
        Duration interval = Duration.ofMillis(300);
        long start = System.nanoTime();
        try (JobReporter reporter = new JobReporter("job", outlet, interval, dir.resolve("staging"))) {
            for (int s = 1; s <= 200; s++) { // 200 steps of 10 ms: 2 s
                reporter.progress(step(s, 200));
                Thread.sleep(10);
            }
            reporter.finish();
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        List<String> calls = outlet.snapshot();
        // The first step at once, then one per interval, and the last step.
        assertThat(calls.size()).isLessThanOrEqualTo((int) (elapsedMs / interval.toMillis()) + 2);
        assertThat(calls.size()).isGreaterThanOrEqualTo(4);
        assertThat(calls).first().isEqualTo("progress 1");
        assertThat(calls).last().isEqualTo("progress 200");
    }

    @Test
    void aCheckpointIsAnnouncedOnlyAfterItsUploadWhileTheNextStepsGoOn() throws Exception {
        RecordingOutlet outlet = new RecordingOutlet();
        outlet.uploadTakes = Duration.ofMillis(400);
        Path run = dir.resolve("run");
        try (JobReporter reporter = new JobReporter("job", outlet, Duration.ZERO, dir.resolve("staging"))) {
            reporter.progress(step(1, 4));
            reporter.checkpoint(1, checkpoint(run, 1));
            long start = System.nanoTime();
            reporter.progress(step(2, 4));
            reporter.progress(step(3, 4));
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .as("steps after a checkpoint do not wait for its upload")
                    .isLessThan(Duration.ofMillis(200));
            assertThat(outlet.snapshot()).doesNotContain("announce 1");
            reporter.checkpoint(3, checkpoint(run, 3)); // waits for the upload of 1: one in flight
            reporter.progress(step(4, 4));
            reporter.finish();
        }
        List<String> calls = outlet.snapshot();
        assertThat(calls).containsSubsequence("upload 1", "announce 1", "upload 3", "announce 3");
        assertThat(calls).contains("progress 4").doesNotHaveDuplicates();
        assertThat(calls.indexOf("announce 1")).isGreaterThan(calls.indexOf("upload 1"));
    }

    @Test
    void aCheckpointRotatedAwayMidUploadIsStillUploadedWhole() throws Exception {
        RecordingOutlet outlet = new RecordingOutlet();
        outlet.uploadTakes = Duration.ofMillis(300);
        Path run = dir.resolve("run");
        try (JobReporter reporter = new JobReporter("job", outlet, Duration.ZERO, dir.resolve("staging"))) {
            Path checkpoint = checkpoint(run, 2);
            reporter.checkpoint(2, checkpoint);
            JobReporter.deleteRecursively(checkpoint); // save_total_limit pruned it at once
            reporter.finish();
        }
        assertThat(outlet.uploadedFiles)
                .containsExactlyInAnyOrder("2:adapter_model.safetensors=weights 2", "2:trainer_state.json=state 2");
        assertThat(dir.resolve("staging")).doesNotExist();
    }

    @Test
    void aTransientProgressFailureIsRiddenOutAndAFailedUploadReachesTheTrainingThread() throws Exception {
        RecordingOutlet outlet = new RecordingOutlet();
        outlet.progressFails = new ObjectStoreException("put", "training/jobs/job/job.json", new IOException("down"));
        CountDownLatch uploaded = new CountDownLatch(1);
        JobReporter.Outlet failingUpload = new JobReporter.Outlet() {
            @Override
            public void progress(StepMetrics metrics) {
                outlet.progress(metrics);
            }

            @Override
            public String upload(int step, Path directory) throws IOException {
                uploaded.countDown();
                throw new IOException("checkpoint " + step + " upload failed after the retry budget");
            }

            @Override
            public void announce(int step, String prefix) {
                outlet.announce(step, prefix);
            }
        };
        try (JobReporter reporter = new JobReporter("job", failingUpload, Duration.ZERO, dir.resolve("staging"))) {
            reporter.progress(step(1, 10)); // fails transiently: logged, training goes on
            reporter.progress(step(2, 10));
            reporter.checkpoint(2, checkpoint(dir.resolve("run"), 2));
            assertThat(uploaded.await(5, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(200);
            assertThatThrownBy(() -> reporter.progress(step(3, 10)))
                    .hasMessageContaining("checkpoint 2 upload failed after the retry budget");
            assertThatThrownBy(reporter::finish).hasMessageContaining("checkpoint 2 upload failed");
        }
        assertThat(outlet.snapshot()).doesNotContain("announce 2");
    }

    /**
     * With a report interval of 0 (every step), a store that is down is not met with a loop of failing
     * reports: the next try comes a second later, then the progress goes out and says it recovered.
     * (Tried at once, this test's reporter made some 10^5 attempts, and warnings, a second.)
     */
    @Test
    void aFailedReportIsTriedAgainASecondLaterNotInALoop() throws Exception {
        RecordingOutlet outlet = new RecordingOutlet();
        outlet.progressFails = new ObjectStoreException("put", "training/jobs/job/job.json", new IOException("down"));
        try (JobReporter reporter = new JobReporter("job", outlet, Duration.ZERO, dir.resolve("staging"))) {
            long start = System.nanoTime();
            reporter.progress(step(1, 10));
            await().atMost(Duration.ofSeconds(5)).until(() -> outlet.progressAttempts.get() >= 1);
            Thread.sleep(JobReporter.RETRY_AFTER_FAILURE.toMillis() / 2);
            assertThat(outlet.progressAttempts.get()).isEqualTo(1);

            outlet.progressFails = null; // the store is back
            await().atMost(Duration.ofSeconds(5)).until(() -> outlet.snapshot().contains("progress 1"));

            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(JobReporter.RETRY_AFTER_FAILURE.toNanos());
            assertThat(outlet.progressAttempts.get()).isEqualTo(2);
        }
    }

    /**
     * What a log line on the reporter or uploader thread carries, read from the record as the log
     * formatter reads it: the MDC of the thread that logged it.
     */
    private record LogLine(String thread, String message, Map<String, String> mdc) {}

    @Test
    void reporterAndUploaderLogLinesCarryTheJobsFieldsAndItsTrace() throws Exception {
        SpanContext trace = SpanContext.create(
                "0af7651916cd43dd8448eb211c80319c",
                "b7ad6b7169203331",
                TraceFlags.getSampled(),
                TraceState.getDefault());
        List<LogLine> lines = new CopyOnWriteArrayList<>();
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.finetune.training.worker");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                Map<String, String> mdc = record instanceof ExtLogRecord ext
                        ? ext.getMdcCopy()
                        : Map.of(); // not jboss-logmanager: the assertions below say so
                lines.add(new LogLine(Thread.currentThread().getName(), record.getMessage(), Map.copyOf(mdc)));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(capture);
        RecordingOutlet outlet = new RecordingOutlet();
        outlet.progressFails = new ObjectStoreException("put", "training/jobs/job-8/job.json", new IOException("down"));
        CountDownLatch uploaded = new CountDownLatch(1);
        JobReporter.Outlet logging = new JobReporter.Outlet() {
            @Override
            public void progress(StepMetrics metrics) {
                outlet.progress(metrics);
            }

            @Override
            public String upload(int step, Path directory) {
                Logger.getLogger(JobReporterTest.class).infof("uploading checkpoint %d", step);
                uploaded.countDown();
                return "checkpoints/job-8/step-" + step + "/";
            }

            @Override
            public void announce(int step, String prefix) {}
        };
        // As on a worker: the job's fields are in the MDC, its trace only in the OpenTelemetry
        // context (Quarkus keeps the trace's MDC entries on the Vert.x context, not the thread).
        try (WorkContext job = WorkContext.builder().job("job-8").open();
                Scope run = Span.wrap(trace).makeCurrent();
                JobReporter reporter = new JobReporter("job-8", logging, Duration.ZERO, dir.resolve("staging"))) {
            reporter.progress(step(1, 4)); // fails transiently: the reporter thread logs a warning
            reporter.checkpoint(2, checkpoint(dir.resolve("run"), 2));
            assertThat(uploaded.await(10, TimeUnit.SECONDS)).isTrue();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> lines.stream().anyMatch(l -> l.thread().startsWith("reporter-")));
        } finally {
            logger.removeHandler(capture);
        }
        for (String thread : List.of("reporter-job-8", "uploader-job-8")) {
            LogLine line = lines.stream()
                    .filter(l -> l.thread().equals(thread))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no log line on " + thread + " in " + lines));
            assertThat(line.mdc())
                    .as("the MDC of %s's line \"%s\"", thread, line.message())
                    .containsEntry(WorkContext.JOB_ID, "job-8")
                    .containsEntry("traceId", trace.getTraceId())
                    .containsEntry("spanId", trace.getSpanId());
        }
    }

    private static Path checkpoint(Path run, int step) throws IOException {
        Path dir = Files.createDirectories(run.resolve("checkpoint-" + step));
        Files.writeString(dir.resolve("adapter_model.safetensors"), "weights " + step);
        Files.writeString(dir.resolve("trainer_state.json"), "state " + step);
        return dir;
    }
}
