package dev.finetune.training.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.JobState;
import dev.finetune.events.Objective;
import dev.finetune.events.TrainingEvent;
import dev.finetune.events.TrainingEventKind;
import dev.finetune.llm.memory.NativeAllocator;
import dev.finetune.llm.model.Engines;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.TrainingSettings;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Runs what a job's reporting and uploads run, once, when the worker starts, so that its first job
 * does not pay for it on the cores that train. Measured with {@code -XX:+PrintCompilation} in the
 * reporting benchmark (docs/benchmarks.md): a worker's first job compiled about 1,200 more methods of
 * the Kafka, S3 (MinIO, OkHttp), Jackson and SmallRye code than its second, and met the
 * {@code checkpoints.created} topic's metadata only at its first checkpoint. On a thread of its own:
 *
 * <ol>
 *   <li>loads the PyTorch engine's native libraries;
 *   <li>trains a generated tiny model for {@link TrainingWarmup#STEPS} steps ({@link TrainingWarmup}),
 *       unless {@code pipeline.training.warmup-training} is false: the training code, the tokenizer's
 *       native library and the chat template engine are then compiled and loaded before a job needs them
 *       (a job that comes first stops it: it never trains beside a job);
 *   <li>writes and reads back the events and the record a run writes, {@link #JSON_ROUNDS} times
 *       each, so the JIT compiles them;
 *   <li>writes, reads, replaces (If-Match), lists and deletes a scratch object, {@code
 *       training/warmup/<uuid>.json}, {@link #STORE_ROUNDS} times;
 *   <li>fetches the metadata of the topics a run sends to (no record is sent).
 * </ol>
 *
 * Startup does not wait for it, and each part that fails (the store or the broker away) is only
 * logged: warming is never a reason not to start. A job waits for it at most {@link #MAX_WAIT}.
 */
@ApplicationScoped
public class WorkerWarmup {
    private static final Logger LOG = Logger.getLogger(WorkerWarmup.class);
    /** Enough calls for the JIT's C2 tier (a few thousand invocations), a fraction of a second. */
    static final int JSON_ROUNDS = 3000;
    /** Enough requests for the client code's C1 tier, about a second against a local store. */
    static final int STORE_ROUNDS = 30;
    /** The most a job waits for the warm-up; a store or broker that is away ends it sooner. */
    static final Duration MAX_WAIT = Duration.ofSeconds(30);

    private static final Duration TOPIC_METADATA_TIMEOUT = Duration.ofSeconds(5);
    private static final Map<String, String> OUTGOING =
            Map.of("training-events-out", "training.events", "checkpoints-out", "checkpoints.created");

    private final ObjectStore store;
    private final ObjectMapper json;
    private final KafkaClientService kafka;
    private final TrainingSettings settings;
    private final boolean trains;
    private final String scratchKey;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final TrainingWarmup training;
    private final CompletableFuture<Void> trainingEnded = new CompletableFuture<>();
    private volatile int trainedSteps;

    WorkerWarmup(ObjectStore store, ObjectMapper json, KafkaClientService kafka, TrainingSettings settings) {
        this.store = store;
        this.json = json;
        this.kafka = kafka;
        this.settings = settings;
        this.trains = settings.role().trains();
        this.scratchKey = "training/warmup/" + UUID.randomUUID() + ".json";
        this.training = new TrainingWarmup(settings.workDir());
    }

    void start(@Observes StartupEvent startup) {
        if (!trains) {
            trainingEnded.complete(null);
            done.complete(null); // role api: it never trains, so it never loads the engine either
            return;
        }
        NativeAllocator.report(LOG::info, LOG::warn); // the memory estimate assumes jemalloc's footprint
        Thread thread = new Thread(this::warm, "worker-warmup");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Waits until the warm-up has run, at most {@link #MAX_WAIT}; then stops its training, if that is
     * still running, and waits for it to end (after the micro-batch in progress): the engine collects
     * gradients for one training at a time, so a job never trains beside the warm-up.
     */
    void awaitWarm() {
        try {
            done.get(MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.infof("worker warm-up not done within %s: a job is waiting, so its training stops", MAX_WAIT);
        }
        training.stop();
        trainingEnded.join();
    }

    /** Whether the warm-up has run (each part done or given up). */
    boolean isDone() {
        return done.isDone();
    }

    /** The steps the training warm-up ran: {@link TrainingWarmup#STEPS}, or 0 if it was off or failed. */
    int trainedSteps() {
        return trainedSteps;
    }

    private void warm() {
        long start = System.nanoTime();
        try {
            part("engine", Engines::inferenceThread);
            try {
                if (settings.warmupTraining()) {
                    part("training", () -> trainedSteps = training.run());
                }
            } finally {
                trainingEnded.complete(null);
            }
            part("json", this::json);
            part("object store", this::store);
            part("topics", this::topics);
            LOG.infof("worker warm-up took %d ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        } finally {
            trainingEnded.complete(null); // whatever ended the warm-up, a job never waits for it for ever
            done.complete(null);
        }
    }

    private static void part(String name, Runnable work) {
        try {
            work.run();
        } catch (RuntimeException | LinkageError e) {
            LOG.infof("worker warm-up: %s skipped (%s)", name, e.getMessage());
        }
    }

    private void json() {
        Instant now = Instant.now();
        TrainingEvent metrics = new TrainingEvent(
                "warmup",
                1,
                TrainingEventKind.METRICS,
                JobState.RUNNING,
                null,
                new TrainingEvent.Metrics(1, 2, 0.5, 2.5, 2e-4, 1.0, 1000.0, 60.0),
                now);
        TrainingEvent state = new TrainingEvent(
                "warmup", 2, TrainingEventKind.STATE, JobState.RUNNING, "started on worker", null, now);
        CheckpointCreated checkpoint = new CheckpointCreated(
                "warmup",
                1,
                2,
                "checkpoints/warmup/step-1/",
                "base",
                "dataset",
                "1",
                FineTuneMethod.LORA,
                Objective.SFT,
                null,
                null,
                null,
                false,
                now);
        try {
            for (int i = 0; i < JSON_ROUNDS; i++) {
                for (Object event : List.of(metrics, state, checkpoint)) {
                    json.readValue(json.writeValueAsBytes(event), event.getClass());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("events do not round-trip: " + e.getMessage(), e);
        }
    }

    private void store() {
        byte[] body = "{\"warmup\":true}".getBytes(StandardCharsets.UTF_8);
        try {
            for (int i = 0; i < STORE_ROUNDS; i++) {
                store.putBytes(scratchKey, body, "application/json");
                ObjectInfo info = store.stat(scratchKey).orElseThrow();
                store.getBytes(scratchKey);
                store.putIfMatch(scratchKey, body, "application/json", info.etag());
                store.list(scratchKey, null, 1);
            }
        } finally {
            store.delete(scratchKey);
        }
    }

    private void topics() {
        OUTGOING.forEach((channel, topic) ->
                kafka.getProducer(channel).partitionsFor(topic).await().atMost(TOPIC_METADATA_TIMEOUT));
    }
}
