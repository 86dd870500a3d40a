package dev.finetune.registry;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import ai.djl.Device;
import ai.djl.ndarray.NDScope;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EvaluationCompleted;
import dev.finetune.events.EvaluationStatus;
import dev.finetune.events.EventJson;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.events.RegisteredVersion;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.lora.LoraLinear;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * What the upstream services do, done for real in tests: a tiny base model generated in HuggingFace
 * layout and uploaded to {@code models/base/tiny-llama/}, LoRA adapters with random non-zero B saved
 * in PEFT layout and uploaded as final checkpoints, prepared-dataset manifests, and the
 * CheckpointCreated / EvaluationCompleted CloudEvents on Kafka.
 */
final class Pipeline {
    static final String BASE_MODEL = "tiny-llama";
    /** Two sequences of 7 tokens (vocabulary 128): the inputs every logits comparison uses. */
    static final long[][] IDS = {{5, 17, 99, 3, 44, 8, 120}, {1, 64, 2, 77, 31, 9, 15}};
    /** Half-width of the uniform draw for B: large enough that the adapter visibly moves the logits. */
    private static final double B_RANGE = 0.1;

    private static Path baseDirectory;

    private Pipeline() {}

    /**
     * A new directory for a test's files under this module's {@code target/work}, not the machine's
     * shared temporary directory: a build's test files go with {@code mvn clean}, and several hundred
     * of them a run no longer pile up in /tmp.
     */
    static Path scratch(String prefix) throws IOException {
        return Files.createTempDirectory(Files.createDirectories(Path.of("target", "work", "registry-test")), prefix);
    }

    /** The tiny base model on disk, generated once per test JVM and uploaded once. */
    static synchronized Path base(ObjectStore store) throws IOException {
        if (baseDirectory == null) {
            Path dir = scratch("registry-test-base-");
            TinyModelGenerator.write(TinyModels.config(ModelType.LLAMA), 11, dir);
            TinyTokenizerWriter.write(dir);
            upload(store, dir, ObjectKeys.baseModelPrefix(BASE_MODEL));
            baseDirectory = dir;
        }
        return baseDirectory;
    }

    /** A job's trained adapter: where it was saved and the logits of {@link #IDS} the adapted model gives. */
    record Trained(Path directory, float[] logits) {}

    /** Trains nothing: applies a LoRA adapter to every attention projection with a random, non-zero B. */
    static Trained adapter(ObjectStore store, long seed) throws IOException {
        return adapter(store, seed, LoraConfig.defaults().withR(4).withAlpha(8));
    }

    /**
     * Trains nothing: applies adapters as {@code config} says with a random, non-zero B (and, for DoRA,
     * magnitudes moved by up to 20% from the weight norms they start at).
     */
    @SuppressWarnings("try")
    static Trained adapter(ObjectStore store, long seed, LoraConfig config) throws IOException {
        Path base = base(store);
        Path dir = scratch("registry-test-adapter-");
        try (CausalLm model = CausalLm.load(base, Device.cpu())) {
            Adapters adapters = Adapters.apply(model, config, seed);
            SplittableRandom random = new SplittableRandom(seed);
            for (LoraLinear layer : adapters.layers().values()) {
                float[] b = new float[Math.toIntExact(layer.loraB().shape().size())];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) ((random.nextDouble() * 2 - 1) * B_RANGE);
                }
                layer.loraB().array().set(b); // [O, R]
                layer.magnitude().ifPresent(m -> {
                    float[] values = m.array().toFloatArray(); // [O]
                    for (int o = 0; o < values.length; o++) {
                        values[o] *= (float) (0.8 + 0.4 * random.nextDouble());
                    }
                    m.array().set(values);
                });
            }
            PeftAdapter.save(adapters, dir, base.toString());
            return new Trained(dir, logits(model));
        }
    }

    /**
     * A reward model's LoRA adapter as an objective reward job saves it (task_type SEQ_CLS, the score
     * head whole in modules_to_save), trained on nothing: random B and score head.
     */
    static Path rewardAdapter(ObjectStore store, long seed) throws IOException {
        Path base = base(store);
        Path dir = scratch("registry-test-reward-");
        try (CausalLm model = CausalLm.load(base, Device.cpu())) {
            model.attachScoreHead(0, seed);
            Adapters adapters =
                    Adapters.apply(model, LoraConfig.defaults().withR(4).withAlpha(8), seed);
            SplittableRandom random = new SplittableRandom(seed);
            for (LoraLinear layer : adapters.layers().values()) {
                float[] b = new float[Math.toIntExact(layer.loraB().shape().size())];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) ((random.nextDouble() * 2 - 1) * B_RANGE);
                }
                layer.loraB().array().set(b); // [O, R]
            }
            PeftAdapter.save(adapters, dir, base.toString());
            return dir;
        }
    }

    /** Logits [B, T, V] of {@link #IDS}, flattened. */
    @SuppressWarnings("try")
    static float[] logits(CausalLm model) {
        try (NDScope ignored = new NDScope()) {
            return model.forward(model.manager().create(IDS), null, null).toFloatArray();
        }
    }

    /** Uploads a job's final checkpoint as the training-service does: the adapter plus trainer state. */
    static String uploadCheckpoint(ObjectStore store, String job, long step, Path adapter) throws IOException {
        String prefix = ObjectKeys.checkpointPrefix(job, step);
        upload(store, adapter, prefix);
        String trainerState = "{\"global_step\": " + step + ", \"epoch\": 2.0, \"plan\": {\"batch_size\": 4,"
                + " \"gradient_accumulation_steps\": 2, \"total_steps\": " + step + ", \"seed\": 7},"
                + " \"schedule\": {\"type\": \"cosine\", \"peak_learning_rate\": 0.0002, \"warmup_steps\": 3}}";
        store.putBytes(
                prefix + "trainer_state.json", trainerState.getBytes(StandardCharsets.UTF_8), "application/json");
        store.putBytes(prefix + "optimizer.safetensors", new byte[64], "application/octet-stream");
        return prefix;
    }

    /** The prepared-dataset manifest the dataset-service writes (only the fields the registry reads). */
    static String prepareDataset(ObjectStore store, String dataset, String version) {
        String sha256 = sha256(dataset + "@" + version);
        String manifest = "{\"status\":\"prepared\",\"datasetId\":\"" + dataset + "@" + version + "\",\"sha256\":\""
                + sha256 + "\"}";
        store.putBytes(
                ObjectKeys.preparedDataset(dataset, version, "manifest.json"),
                manifest.getBytes(StandardCharsets.UTF_8),
                "application/json");
        return sha256;
    }

    static void checkpointCreated(String job, long step, String dataset, FineTuneMethod method, String eventId)
            throws Exception {
        checkpointCreated(job, step, dataset, method, null, eventId);
    }

    /** The final checkpoint event of a job that continued training from {@code parent} (init_adapter). */
    static void checkpointCreated(
            String job, long step, String dataset, FineTuneMethod method, RegisteredVersion parent, String eventId)
            throws Exception {
        checkpointCreated(job, step, dataset, method, parent, null, eventId);
    }

    /**
     * The final checkpoint event of a job that continued training from {@code parent} (init_adapter), a
     * GRPO job trained against {@code rewardModel} if there is one, else SFT.
     */
    static void checkpointCreated(
            String job,
            long step,
            String dataset,
            FineTuneMethod method,
            RegisteredVersion parent,
            RegisteredVersion rewardModel,
            String eventId)
            throws Exception {
        checkpointCreated(
                job,
                step,
                dataset,
                method,
                rewardModel == null ? Objective.SFT : Objective.GRPO,
                parent,
                rewardModel,
                eventId);
    }

    /** The final checkpoint event of an {@code objective} job. */
    static void checkpointCreated(
            String job,
            long step,
            String dataset,
            FineTuneMethod method,
            Objective objective,
            RegisteredVersion parent,
            RegisteredVersion rewardModel,
            String eventId)
            throws Exception {
        CheckpointCreated event = new CheckpointCreated(
                job,
                step,
                step,
                ObjectKeys.checkpointPrefix(job, step),
                BASE_MODEL,
                dataset,
                "1",
                method,
                objective,
                parent,
                rewardModel,
                null,
                true,
                Instant.now());
        EventTopics.publishCloudEvent(
                "checkpoints.created",
                job,
                eventId,
                CheckpointCreated.TYPE,
                EventJson.mapper().writeValueAsString(event));
    }

    static void evaluationCompleted(
            String job, long step, EvaluationStatus status, Map<String, Double> metrics, String eventId)
            throws Exception {
        EvaluationCompleted event = new EvaluationCompleted(
                job + "-step-" + step,
                job,
                ObjectKeys.checkpointPrefix(job, step),
                step,
                status,
                metrics,
                Map.of("eval_loss", 3.0, "perplexity", 20.1),
                Map.of("eval_loss", 2.9, "perplexity", 18.2),
                status == EvaluationStatus.ERROR
                        ? List.of()
                        : List.of(new EvaluationCompleted.GateOutcome(
                                "eval_loss <= base - 0.05",
                                status == EvaluationStatus.PASSED,
                                "eval_loss " + metrics.get("eval_loss") + " vs required <= 2.95")),
                List.of(),
                "evaluations/" + job + "/step-" + step + "/report.json",
                status == EvaluationStatus.ERROR ? "checkpoint could not be loaded" : null,
                Instant.now());
        EventTopics.publishCloudEvent(
                "evaluations.completed",
                job,
                eventId,
                EvaluationCompleted.TYPE,
                EventJson.mapper().writeValueAsString(event));
    }

    /**
     * Runs a job through the pipeline's events (checkpoint first, then its evaluation) and waits
     * until the registry has registered it.
     */
    static JsonPath register(
            ObjectStore store, String job, String dataset, long seedAndStep, Map<String, Double> metrics)
            throws Exception {
        return register(store, job, dataset, seedAndStep, EvaluationStatus.PASSED, metrics);
    }

    static JsonPath register(
            ObjectStore store,
            String job,
            String dataset,
            long seedAndStep,
            EvaluationStatus status,
            Map<String, Double> metrics)
            throws Exception {
        return register(
                store, job, dataset, seedAndStep, adapter(store, seedAndStep).directory(), status, metrics);
    }

    /** As {@link #register}, for an adapter made beforehand: {@code adapter} is the job's final checkpoint. */
    static JsonPath register(
            ObjectStore store,
            String job,
            String dataset,
            long seedAndStep,
            Path adapter,
            EvaluationStatus status,
            Map<String, Double> metrics)
            throws Exception {
        prepareDataset(store, dataset, "1");
        uploadCheckpoint(store, job, seedAndStep, adapter);
        checkpointCreated(
                job,
                seedAndStep,
                dataset,
                FineTuneMethod.LORA,
                UUID.randomUUID().toString());
        evaluationCompleted(job, seedAndStep, status, metrics, UUID.randomUUID().toString());
        return awaitRegistered(job);
    }

    /** Waits until the job is registered; its registration view. */
    static JsonPath awaitRegistered(String job) {
        return await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(
                        () -> given().get("/api/registrations/{job}", job)
                                .then()
                                .statusCode(200)
                                .extract()
                                .jsonPath(),
                        view -> "registered".equals(view.getString("state")));
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static String modelOf(String dataset) {
        return BASE_MODEL + "-" + dataset;
    }

    static String sha256(String text) {
        return dev.finetune.storage.Digests.of(text);
    }

    private static void upload(ObjectStore store, Path dir, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                store.putFile(prefix + file.getFileName(), file, "application/octet-stream");
            }
        }
    }
}
