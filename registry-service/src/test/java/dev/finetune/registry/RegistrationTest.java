package dev.finetune.registry;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.EvaluationStatus;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.events.RegisteredVersion;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.inference.RewardModel;
import dev.finetune.llm.rewards.ModelReward;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.registry.registration.BaseModelFingerprints;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Job results arriving on Kafka become immutable, numbered, documented versions: once per job. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class RegistrationTest {
    @Inject
    ObjectStore store;

    /**
     * A job that continued training from version 1 (init_adapter) becomes version 2 with 1 as its parent,
     * and with the reward model it was trained against (GRPO with a registered reward model).
     */
    @Test
    void aContinuedTrainingsVersionRecordsItsParent() throws Exception {
        String dataset = Pipeline.unique("continued");
        String model = Pipeline.modelOf(dataset);
        Pipeline.prepareDataset(store, dataset, "1");
        String first = Pipeline.unique("job");
        Pipeline.uploadCheckpoint(store, first, 10, Pipeline.adapter(store, 10).directory());
        Pipeline.checkpointCreated(
                first, 10, dataset, FineTuneMethod.LORA, UUID.randomUUID().toString());
        Pipeline.evaluationCompleted(
                first,
                10,
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.5),
                UUID.randomUUID().toString());
        assertThat(Pipeline.awaitRegistered(first).getLong("version")).isEqualTo(1);

        String second = Pipeline.unique("job");
        Pipeline.uploadCheckpoint(store, second, 10, Pipeline.adapter(store, 11).directory());
        Pipeline.checkpointCreated(
                second,
                10,
                dataset,
                FineTuneMethod.LORA,
                new RegisteredVersion(model, 1),
                new RegisteredVersion("judge", 4),
                UUID.randomUUID().toString());
        Pipeline.evaluationCompleted(
                second,
                10,
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.4),
                UUID.randomUUID().toString());
        assertThat(Pipeline.awaitRegistered(second).getLong("version")).isEqualTo(2);

        JsonPath versions = given().get("/api/models/{m}/versions", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(versions.getString("[0].parent")).as("trained from scratch").isNull();
        assertThat(versions.getString("[1].parent.model")).isEqualTo(model);
        assertThat(versions.getLong("[1].parent.version")).isEqualTo(1);
        assertThat(versions.getString("[0].rewardModel")).isNull();
        assertThat(versions.getString("[1].rewardModel.model")).isEqualTo("judge");
        assertThat(versions.getLong("[1].rewardModel.version")).isEqualTo(4);
        JsonPath detail = given().get("/api/models/{m}/versions/2", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(detail.getString("lineage.parent.model")).isEqualTo(model);
        assertThat(detail.getLong("lineage.parent.version")).isEqualTo(1);
        assertThat(detail.getString("card")).contains("| continued from | `" + model + " version 1` |");
        assertThat(detail.getString("lineage.rewardModel.model")).isEqualTo("judge");
        assertThat(detail.getLong("lineage.rewardModel.version")).isEqualTo(4);
        assertThat(detail.getString("card")).contains("| reward model | `judge version 4` |");
    }

    @Test
    void jobResultsBecomeVersionOneThenTwoInEitherArrivalOrder() throws Exception {
        String dataset = Pipeline.unique("support");
        String model = Pipeline.modelOf(dataset);
        String datasetSha = Pipeline.prepareDataset(store, dataset, "1");

        String first = Pipeline.unique("job");
        Pipeline.uploadCheckpoint(store, first, 20, Pipeline.adapter(store, 20).directory());
        Pipeline.checkpointCreated(
                first, 20, dataset, FineTuneMethod.LORA, UUID.randomUUID().toString());
        Pipeline.evaluationCompleted(
                first,
                20,
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.5),
                UUID.randomUUID().toString());
        JsonPath one = Pipeline.awaitRegistered(first);

        String second = Pipeline.unique("job");
        Pipeline.uploadCheckpoint(store, second, 30, Pipeline.adapter(store, 30).directory());
        Pipeline.evaluationCompleted(
                second,
                30,
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.4),
                UUID.randomUUID().toString());
        Pipeline.checkpointCreated(
                second, 30, dataset, FineTuneMethod.LORA, UUID.randomUUID().toString());
        JsonPath two = Pipeline.awaitRegistered(second);

        assertThat(one.getString("model")).isEqualTo(model);
        assertThat(one.getLong("version")).isEqualTo(1);
        assertThat(two.getLong("version")).isEqualTo(2);
        JsonPath versions = given().get("/api/models/{m}/versions", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(versions.getList("version", Long.class)).containsExactly(1L, 2L);
        assertThat(versions.getList("jobId", String.class)).containsExactly(first, second);
        assertThat(versions.getList("status", String.class)).containsOnly("available");

        // The stored files are the PEFT adapter, card, metrics and lineage, each with its true SHA-256.
        Map<String, Map<String, Object>> files = versions.getMap("[1].files");
        assertThat(files.keySet())
                .containsExactlyInAnyOrder(
                        "adapter_config.json",
                        "adapter_model.safetensors",
                        "README.md",
                        "metrics.json",
                        "lineage.json");
        for (var file : files.entrySet()) {
            try (InputStream in = store.get("registry/" + model + "/2/" + file.getKey())) {
                assertThat(Digests.of(in))
                        .as(file.getKey())
                        .isEqualTo(file.getValue().get("sha256"));
            }
        }
        assertThat(store.exists("registry/" + model + "/2/optimizer.safetensors"))
                .isFalse();
        String adapterConfig =
                new String(store.getBytes("registry/" + model + "/2/adapter_config.json"), StandardCharsets.UTF_8);
        assertThat(adapterConfig)
                .contains("\"base_model_name_or_path\": \"tiny-llama\"")
                .contains("\"use_dora\": false")
                .contains("\"bias\": \"none\"")
                .contains("\"modules_to_save\": null");

        JsonPath detail = given().get("/api/models/{m}/versions/2", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(detail.getString("card"))
                .contains("base_model: tiny-llama")
                .contains("# " + model + " v2")
                .contains("dataset `" + dataset + "` version `1`")
                .contains("LoRA (SFT)")
                .contains("| lora_r | 4 |")
                .contains("| learning_rate | 2.0E-4 |")
                .contains("| eval_loss | 2.4000 | 3.0000 |")
                .contains("Registered 20");
        assertThat(detail.getString("metrics.status")).isEqualTo("passed");
        assertThat(detail.getDouble("metrics.metrics.eval_loss")).isEqualTo(2.4);
        assertThat(detail.getString("lineage.dataset.id")).isEqualTo(dataset + "@1");
        assertThat(detail.getString("lineage.dataset.sha256")).isEqualTo(datasetSha);
        assertThat(detail.getString("lineage.jobId")).isEqualTo(second);
        assertThat(detail.getString("lineage.checkpoint.prefix")).isEqualTo("checkpoints/" + second + "/step-30/");
        assertThat(detail.getString("lineage.baseModel.sha256")).isEqualTo(baseModelSha256());
        assertThat(detail.getString("lineage.evaluation.id")).isEqualTo(second + "-step-30");
        assertThat(detail.getString("lineage.traceId")).matches("[0-9a-f]{32}");

        List<EventTopics.Received> events = RegistryTopics.events(model, 2);
        assertThat(events)
                .extracting(e -> e.value().path("action").asText())
                .containsExactly("version_registered", "version_registered");
        assertThat(events).extracting(e -> e.value().path("version").asLong()).containsExactly(1L, 2L);
        assertThat(events).extracting(EventTopics.Received::key).containsOnly(model);
        assertThat(events.get(0).headers()).containsEntry("ce_type", "dev.finetune.registry.event.v1");
    }

    @Test
    void duplicatedAndRedeliveredEventsMakeOneVersion() throws Exception {
        String dataset = Pipeline.unique("dup");
        String model = Pipeline.modelOf(dataset);
        String job = Pipeline.unique("job");
        Pipeline.prepareDataset(store, dataset, "1");
        Pipeline.uploadCheckpoint(store, job, 10, Pipeline.adapter(store, 10).directory());
        String checkpointId = UUID.randomUUID().toString();
        String evaluationId = UUID.randomUUID().toString();
        Map<String, Double> metrics = Map.of("eval_loss", 2.0);

        Pipeline.checkpointCreated(job, 10, dataset, FineTuneMethod.LORA, checkpointId);
        Pipeline.evaluationCompleted(job, 10, EvaluationStatus.PASSED, metrics, evaluationId);
        Pipeline.checkpointCreated(job, 10, dataset, FineTuneMethod.LORA, checkpointId); // redelivered
        Pipeline.evaluationCompleted(
                job, 10, EvaluationStatus.PASSED, metrics, UUID.randomUUID().toString()); // resent
        Pipeline.awaitRegistered(job);
        Pipeline.checkpointCreated(
                job, 10, dataset, FineTuneMethod.LORA, UUID.randomUUID().toString()); // late resend

        assertThat(RegistryTopics.events(model, 1))
                .extracting(e -> e.value().path("action").asText())
                .containsExactly("version_registered");
        assertThat(given().get("/api/models/{m}/versions?includeIncomplete=true", model)
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getList("version", Long.class))
                .containsExactly(1L);
        assertThat(store.list("registry/_pending/" + job + "/")).isEmpty();
    }

    @Test
    void anErrorEvaluationLeavesTheJobPendingAndAGatesFailedOneRegistersWithItsStatus() throws Exception {
        String dataset = Pipeline.unique("err");
        String model = Pipeline.modelOf(dataset);
        String job = Pipeline.unique("job");
        Pipeline.prepareDataset(store, dataset, "1");
        Pipeline.uploadCheckpoint(store, job, 5, Pipeline.adapter(store, 5).directory());
        Pipeline.evaluationCompleted(
                job, 5, EvaluationStatus.ERROR, Map.of(), UUID.randomUUID().toString());
        Pipeline.checkpointCreated(
                job, 5, dataset, FineTuneMethod.LORA, UUID.randomUUID().toString());

        JsonPath pending = await().atMost(Duration.ofSeconds(30))
                .until(
                        () -> given().get("/api/registrations/{j}", job)
                                .then()
                                .extract()
                                .jsonPath(),
                        view -> view.getString("detail") != null
                                && view.getString("detail").contains("error"));
        assertThat(pending.getString("state")).isEqualTo("pending");
        assertThat(pending.getString("detail")).contains("checkpoint could not be loaded");
        assertThat(given().get("/api/models/{m}/versions?includeIncomplete=true", model)
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("version"))
                .isEmpty();

        Pipeline.evaluationCompleted(
                job,
                5,
                EvaluationStatus.GATES_FAILED,
                Map.of("eval_loss", 3.2),
                UUID.randomUUID().toString());
        JsonPath registered = Pipeline.awaitRegistered(job);
        assertThat(given().get("/api/models/{m}/versions/{v}", model, registered.getLong("version"))
                        .then()
                        .extract()
                        .jsonPath()
                        .getString("version.evaluationStatus"))
                .isEqualTo("gates_failed");
    }

    @Test
    void aFullFineTuneIsRegisteredWithItsModelFilesButNotItsOptimizerState() throws Exception {
        String dataset = Pipeline.unique("full");
        String model = Pipeline.modelOf(dataset);
        String job = Pipeline.unique("job");
        Pipeline.prepareDataset(store, dataset, "1");
        Path base = Pipeline.base(store);
        Pipeline.uploadCheckpoint(store, job, 8, base); // the base files stand in for fully trained weights
        Pipeline.checkpointCreated(
                job, 8, dataset, FineTuneMethod.FULL, UUID.randomUUID().toString());
        Pipeline.evaluationCompleted(
                job,
                8,
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.2),
                UUID.randomUUID().toString());
        Pipeline.awaitRegistered(job);

        JsonPath version = given().get("/api/models/{m}/versions/1", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(version.getString("version.kind")).isEqualTo("model");
        assertThat(version.getMap("version.files").keySet())
                .contains("config.json", "model.safetensors", "tokenizer.json", "README.md")
                .doesNotContain("optimizer.safetensors", "trainer_state.json");
        assertThat(version.getString("card"))
                .contains("A full fine-tune of `tiny-llama`")
                .doesNotContain("library_name: peft");
        given().post("/api/models/{m}/versions/1/merged", model).then().statusCode(409);
    }

    @Test
    void aConfiguredNameMappingRegistersTheJobUnderTheMappedName() throws Exception {
        // application.properties (test profile) maps tiny-llama-renamed-ds to support-assistant.
        JsonPath registered =
                Pipeline.register(store, Pipeline.unique("job"), "renamed-ds", 9, Map.of("eval_loss", 2.0));
        assertThat(registered.getString("model")).isEqualTo("support-assistant");
        given().get("/api/models/support-assistant/versions/1").then().statusCode(200);
        given().get("/api/models/tiny-llama-renamed-ds/versions/1").then().statusCode(404);
    }

    /**
     * An objective reward job's LoRA adapter (task_type SEQ_CLS, its score head in modules_to_save)
     * registers with the head and its config as PEFT wrote them, and a policy job's reward loader
     * ({@code model:<directory>} after the worker downloads {@code model:registry:...}) scores with the
     * registered files exactly as with the job's own; the same adapter from an SFT job is refused.
     */
    @Test
    void aLoraRewardModelRegistersWithItsScoreHeadAndScoresAsTrained() throws Exception {
        String dataset = Pipeline.unique("pairs");
        String model = Pipeline.modelOf(dataset);
        String job = Pipeline.unique("job");
        Path adapter = Pipeline.rewardAdapter(store, 5);
        Pipeline.prepareDataset(store, dataset, "1");
        Pipeline.uploadCheckpoint(store, job, 5, adapter);
        Pipeline.checkpointCreated(
                job,
                5,
                dataset,
                FineTuneMethod.LORA,
                Objective.REWARD,
                null,
                null,
                UUID.randomUUID().toString());
        Pipeline.evaluationCompleted(
                job,
                5,
                EvaluationStatus.PASSED,
                Map.of("preference_accuracy", 0.75),
                UUID.randomUUID().toString());
        long version = Pipeline.awaitRegistered(job).getLong("version");

        Path registered = Pipeline.scratch("registered-reward-");
        for (String file : List.of("adapter_config.json", "adapter_model.safetensors")) {
            store.download(ObjectKeys.registry(model, version, file), registered.resolve(file));
        }
        JsonNode config = new ObjectMapper()
                .readTree(registered.resolve("adapter_config.json").toFile());
        assertThat(config.path("task_type").asText()).isEqualTo("SEQ_CLS");
        assertThat(config.path("modules_to_save").toString()).isEqualTo("[\"score\"]");
        assertThat(Digests.of(registered.resolve("adapter_model.safetensors")))
                .isEqualTo(Digests.of(adapter.resolve("adapter_model.safetensors")));
        Path base = Pipeline.base(store);
        try (RewardModel trained = ModelReward.load(adapter, base);
                RewardModel fromRegistry = ModelReward.load(registered, base)) {
            double[] scores = fromRegistry.scores(Arrays.asList(Pipeline.IDS));
            assertThat(scores).containsExactly(trained.scores(Arrays.asList(Pipeline.IDS)));
            assertThat(scores[0]).isNotEqualTo(scores[1]);
        }

        String sft = Pipeline.unique("job");
        Pipeline.uploadCheckpoint(store, sft, 6, adapter);
        Pipeline.evaluationCompleted(
                sft,
                6,
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.0),
                UUID.randomUUID().toString());
        Pipeline.checkpointCreated(
                sft, 6, dataset, FineTuneMethod.LORA, UUID.randomUUID().toString());
        List<EventTopics.Received> dead = EventTopics.read(
                "checkpoints.created.dlq.registry-service",
                v -> sft.equals(v.path("jobId").asText()),
                1,
                Duration.ofSeconds(40));
        assertThat(dead).singleElement().satisfies(r -> assertThat(r.headers().get("dead-letter-reason"))
                .contains("task_type SEQ_CLS from a sft job"));
    }

    /**
     * A PPO job's version holds its value head beside the adapter, value_head.safetensors with TRL's
     * v_head.summary.weight [1, C] and bias [1], byte for byte; one of the wrong shape is refused naming
     * the shapes, and an SFT job's checkpoint never exports one.
     */
    @Test
    void aPpoVersionHoldsItsValueHeadUnderTrlsNames() throws Exception {
        String dataset = Pipeline.unique("ppo");
        String model = Pipeline.modelOf(dataset);
        String job = Pipeline.unique("job");
        int hidden = ModelConfigJson.read(Pipeline.base(store).resolve("config.json"))
                .hiddenSize();
        Path adapter = Pipeline.adapter(store, 7).directory();
        Path checkpoint = Pipeline.scratch("ppo-checkpoint-");
        for (String file : List.of("adapter_config.json", "adapter_model.safetensors")) {
            Files.copy(adapter.resolve(file), checkpoint.resolve(file));
        }
        valueHead(checkpoint, hidden);
        Pipeline.prepareDataset(store, dataset, "1");
        Pipeline.uploadCheckpoint(store, job, 7, checkpoint);
        Pipeline.checkpointCreated(
                job,
                7,
                dataset,
                FineTuneMethod.LORA,
                Objective.PPO,
                null,
                null,
                UUID.randomUUID().toString());
        Pipeline.evaluationCompleted(
                job,
                7,
                EvaluationStatus.PASSED,
                Map.of("reward", 0.5),
                UUID.randomUUID().toString());
        long version = Pipeline.awaitRegistered(job).getLong("version");

        Path registered = Pipeline.scratch("registered-ppo-").resolve("value_head.safetensors");
        store.download(ObjectKeys.registry(model, version, "value_head.safetensors"), registered);
        assertThat(Digests.of(registered)).isEqualTo(Digests.of(checkpoint.resolve("value_head.safetensors")));
        assertThat(given().get("/api/models/{m}/versions/{v}", model, version)
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getString("card"))
                .contains("`value_head.safetensors` is PPO's value head: `v_head.summary.weight` [1, hidden_size]");

        String sft = Pipeline.unique("job");
        Pipeline.uploadCheckpoint(store, sft, 7, checkpoint);
        Pipeline.checkpointCreated(
                sft,
                7,
                Pipeline.unique("sft"),
                FineTuneMethod.LORA,
                UUID.randomUUID().toString());
        Pipeline.evaluationCompleted(
                sft,
                7,
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.0),
                UUID.randomUUID().toString());
        String sftModel = Pipeline.awaitRegistered(sft).getString("model");
        assertThat(store.exists(ObjectKeys.registry(sftModel, 1, "adapter_model.safetensors")))
                .isTrue();
        assertThat(store.exists(ObjectKeys.registry(sftModel, 1, "value_head.safetensors")))
                .isFalse();

        String wrong = Pipeline.unique("job");
        valueHead(checkpoint, hidden + 1);
        Pipeline.uploadCheckpoint(store, wrong, 7, checkpoint);
        Pipeline.evaluationCompleted(
                wrong,
                7,
                EvaluationStatus.PASSED,
                Map.of("reward", 0.5),
                UUID.randomUUID().toString());
        Pipeline.checkpointCreated(
                wrong,
                7,
                dataset,
                FineTuneMethod.LORA,
                Objective.PPO,
                null,
                null,
                UUID.randomUUID().toString());
        List<EventTopics.Received> dead = EventTopics.read(
                "checkpoints.created.dlq.registry-service",
                v -> wrong.equals(v.path("jobId").asText()),
                1,
                Duration.ofSeconds(40));
        assertThat(dead).singleElement().satisfies(r -> assertThat(r.headers().get("dead-letter-reason"))
                .contains("value_head.safetensors: a PPO value head of base model 'tiny-llama' holds"
                        + " v_head.summary.bias [1], v_head.summary.weight [1, " + hidden + "], found"
                        + " v_head.summary.bias [1], v_head.summary.weight [1, " + (hidden + 1) + "]"));
    }

    /** A value head of {@code width} inputs, as PPO saves it. */
    private static void valueHead(Path directory, int width) throws Exception {
        float[] weight = new float[width];
        for (int i = 0; i < width; i++) {
            weight[i] = 0.01f * (i - width / 2);
        }
        SafetensorsWriter.write(
                directory.resolve("value_head.safetensors"),
                List.of(
                        SafetensorsWriter.floats("v_head.summary.weight", new long[] {1, width}, weight, DType.F32),
                        SafetensorsWriter.floats(
                                "v_head.summary.bias", new long[] {1}, new float[] {0.25f}, DType.F32)),
                Map.of("format", "pt"));
    }

    @Test
    void anAdapterWithAnUnsupportedSettingIsDeadLetteredWithTheReason() throws Exception {
        String dataset = Pipeline.unique("conv1d");
        String job = Pipeline.unique("job");
        Path adapter = Pipeline.adapter(store, 3).directory();
        Path config = adapter.resolve("adapter_config.json");
        Files.writeString(
                config, Files.readString(config).replace("\"fan_in_fan_out\": false", "\"fan_in_fan_out\": true"));
        Pipeline.uploadCheckpoint(store, job, 3, adapter);
        Pipeline.evaluationCompleted(
                job,
                3,
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.0),
                UUID.randomUUID().toString());
        Pipeline.checkpointCreated(
                job, 3, dataset, FineTuneMethod.LORA, UUID.randomUUID().toString());

        List<EventTopics.Received> dead = EventTopics.read(
                "checkpoints.created.dlq.registry-service",
                v -> job.equals(v.path("jobId").asText()),
                1,
                Duration.ofSeconds(40));
        assertThat(dead).singleElement().satisfies(r -> assertThat(r.headers().get("dead-letter-reason"))
                .contains("fan_in_fan_out")
                .contains("is not supported"));
        assertThat(given().get("/api/registrations/{j}", job)
                        .then()
                        .extract()
                        .jsonPath()
                        .getString("state"))
                .isEqualTo("pending");
    }

    /** The base model's hash as the lineage defines it: SHA-256 of its sha256sum listing. */
    private String baseModelSha256() throws Exception {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(Pipeline.base(store))) {
            for (Path file : list.toList()) {
                files.put(file.getFileName().toString(), Digests.of(file));
            }
        }
        assertThat(store.list(ObjectKeys.baseModelPrefix(Pipeline.BASE_MODEL))).hasSize(files.size());
        return BaseModelFingerprints.combined(files);
    }
}
