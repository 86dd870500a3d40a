package dev.finetune.training;

import static io.opentelemetry.api.common.AttributeKey.stringKey;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class JobLifecycleTest {
    @Inject
    ObjectStore store;

    @Inject
    io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter spans;

    @Inject
    dev.finetune.training.trigger.DatasetTriggers triggers;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.baseModel(store, "tiny-qwen3");
        Fixtures.sftDataset(store, "qa");
        Fixtures.preferenceDataset(store, "prefs");
        Fixtures.unpairedPreferenceDataset(store, "labelled");
        Fixtures.promptDataset(store, "prompts");
        Fixtures.tokenizedDataset(store, "ids");
    }

    @Test
    void loraSftJobRunsToSucceededWithEventsAndCheckpointsInOrder() {
        String id = create(Map.of(
                "baseModel",
                "tiny-qwen3",
                "dataset",
                Map.of("name", "qa", "version", "1"),
                "method",
                "lora",
                "objective",
                "sft",
                "hyperparameters",
                Map.of("max_steps", 6, "save_steps", 3, "per_device_train_batch_size", 4, "max_seq_length", 48)));

        JsonPath job = awaitState(id, "succeeded");
        assertThat(job.getLong("step")).isEqualTo(6);
        assertThat(job.getString("resultPrefix")).isEqualTo("checkpoints/" + id + "/step-6/");
        assertThat(store.exists("checkpoints/" + id + "/step-6/adapter_model.safetensors"))
                .isTrue();
        assertThat(store.exists("checkpoints/" + id + "/step-6/adapter_config.json"))
                .isTrue();

        JsonPath events = events(id);
        List<String> states = events.getList("findAll { it.kind == 'state' }.state");
        assertThat(states).containsSubsequence("validating", "queued", "running", "succeeded");
        // Progress is throttled (report-interval): the first step at once, then at most one report per
        // interval, after each checkpoint and at the last step; never twice, never backwards.
        assertThat(events.getList("findAll { it.kind == 'metrics' }.metrics.step", Integer.class))
                .startsWith(1)
                .endsWith(6)
                .isSorted()
                .doesNotHaveDuplicates();
        assertThat(events.getList("sequence", Long.class)).isSorted().doesNotHaveDuplicates();
        // One span per phase, in the trace of the request that created the job (spans export in batches).
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            var finished = spans.getFinishedSpanItems();
            var phases = finished.stream()
                    .filter(s -> id.equals(
                            s.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("job.id"))))
                    .toList();
            assertThat(phases)
                    .extracting(s -> s.getName())
                    .contains(
                            "training.load-model",
                            "training.train",
                            "training.upload-checkpoint",
                            "training.upload-result");
            String trace = phases.get(0).getTraceId();
            assertThat(phases).allSatisfy(s -> assertThat(s.getTraceId()).isEqualTo(trace));
            // Searchable in Jaeger by what the job is about: every span of its work carries it,
            // the Kafka producer span of a checkpoint too.
            assertThat(phases)
                    .filteredOn(s ->
                            s.getName().equals("training.train") || s.getName().equals("checkpoints.created publish"))
                    .hasSizeGreaterThanOrEqualTo(2)
                    .allSatisfy(s -> assertThat(s.getAttributes().asMap())
                            .containsEntry(stringKey("dataset.name"), "qa")
                            .containsEntry(stringKey("dataset.version"), "1")
                            .containsEntry(stringKey("model.base"), "tiny-qwen3")
                            .containsEntry(stringKey("finetune.method"), "lora")
                            .containsEntry(stringKey("finetune.objective"), "sft"));
            assertThat(finished).as("progress reports are not spans").noneMatch(s -> s.getName()
                    .startsWith("training.events"));
            assertThat(finished).anySatisfy(s -> {
                assertThat(s.getKind()).isEqualTo(io.opentelemetry.api.trace.SpanKind.SERVER);
                assertThat(s.getName()).contains("/api/jobs");
                assertThat(s.getTraceId()).isEqualTo(trace);
            });
        });
        List<String> checkpoints = given().get("/api/jobs/{id}/checkpoints", id)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("prefix");
        assertThat(checkpoints).containsExactly("checkpoints/" + id + "/step-3/", "checkpoints/" + id + "/step-6/");
    }

    /** PEFT's use_dora and a fractional lora_alpha go through the API to a PEFT DoRA adapter. */
    @Test
    void doraJobWithAFractionalAlphaRunsToSucceededAndSavesAPeftDoraAdapter() throws Exception {
        String id = create(sftJob(
                "qa",
                Map.of(
                        "max_steps",
                        2,
                        "per_device_train_batch_size",
                        4,
                        "max_seq_length",
                        48,
                        "use_dora",
                        true,
                        "lora_alpha",
                        12.5)));

        JsonPath job = awaitState(id, "succeeded");
        assertThat(job.getBoolean("hyperparameters.use_dora")).isTrue();
        assertThat(job.getDouble("hyperparameters.lora_alpha")).isEqualTo(12.5);
        String prefix = "checkpoints/" + id + "/step-2/";
        String config = new String(store.getBytes(prefix + "adapter_config.json"), StandardCharsets.UTF_8);
        assertThat(config).contains("\"use_dora\": true,").contains("\"lora_alpha\": 12.5,");
        Path weights = store.download(
                prefix + "adapter_model.safetensors",
                Files.createTempDirectory("dora-job-").resolve("adapter_model.safetensors"));
        try (SafetensorsReader reader = SafetensorsReader.open(weights)) {
            assertThat(reader.names())
                    .contains("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector");
        }
    }

    @Test
    void eachCheckpointIsPublishedOnceUnderItsOwnIdAndTheLastOnlyAsFinal() throws Exception {
        String id = create(sftJob(
                "qa", Map.of("max_steps", 4, "save_steps", 2, "per_device_train_batch_size", 4, "max_seq_length", 48)));
        awaitState(id, "succeeded");

        List<EventTopics.Received> published = EventTopics.read(
                "checkpoints.created", v -> v.path("jobId").asText().equals(id), 2, Duration.ofSeconds(20));
        assertThat(published)
                .extracting(r -> r.value().path("step").asLong()
                        + (r.value().path("isFinal").asBoolean() ? " final" : ""))
                .containsExactly("2", "4 final");
        assertThat(published)
                .extracting(r -> r.headers().get("ce_id"))
                .containsExactly("checkpoint:" + id + ":step-2", "checkpoint:" + id + ":step-4:final");
    }

    /**
     * Evaluating every step with a learning rate that overshoots: the validation loss bottoms out early,
     * and the final checkpoint announced holds that step's adapter, bit for bit; every evaluation is
     * reported in a metrics event.
     */
    @Test
    void loadBestModelAtEndMakesTheFinalCheckpointTheBestEvaluatedStep() throws Exception {
        String id = create(sftJob(
                "qa",
                Map.ofEntries(
                        Map.entry("max_steps", 6),
                        Map.entry("save_steps", 2),
                        Map.entry("per_device_train_batch_size", 4),
                        Map.entry("max_seq_length", 48),
                        Map.entry("learning_rate", 0.5),
                        Map.entry("max_grad_norm", 0.0),
                        Map.entry("lora_target_modules", List.of("all-linear")),
                        Map.entry("eval_strategy", "steps"),
                        Map.entry("eval_steps", 1),
                        Map.entry("load_best_model_at_end", true))));
        JsonPath job = awaitState(id, "succeeded");
        assertThat(job.getString("resultPrefix")).isEqualTo("checkpoints/" + id + "/step-6/");

        List<EventTopics.Received> published = EventTopics.read(
                "checkpoints.created",
                v -> v.path("jobId").asText().equals(id) && v.path("isFinal").asBoolean(),
                1,
                Duration.ofSeconds(20));
        String finalPrefix = published.get(0).value().path("prefix").asText();
        String state = new String(store.getBytes(finalPrefix + "trainer_state.json"), StandardCharsets.UTF_8);
        long best = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(state)
                .path("best_global_step")
                .asLong();
        assertThat(best)
                .as("the run diverged: its best step is not its last (%s)", state)
                .isBetween(1L, 5L);
        Path scratch = Files.createTempDirectory("best-");
        byte[] result = Files.readAllBytes(
                store.download(finalPrefix + "adapter_model.safetensors", scratch.resolve("final.safetensors")));
        byte[] bestWeights = Files.readAllBytes(store.download(
                "checkpoints/" + id + "/step-" + best + "/adapter_model.safetensors",
                scratch.resolve("best.safetensors")));
        assertThat(result).isEqualTo(bestWeights);

        JsonPath events = events(id);
        assertThat(events.getList("findAll { it.kind == 'metrics' && it.metrics.evaluation != null }.metrics.step"))
                .containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(events.getList("findAll { it.kind == 'state' }.message", String.class))
                .last()
                .asString()
                .contains("best eval_loss")
                .contains("checkpoint-" + best + ", whose weights are the result");
    }

    /**
     * With a threshold no evaluation beats, patience 2 runs out at the third evaluation: the job
     * succeeds at step 3 of 10, saying so, and step 3 is announced once, as final.
     */
    @Test
    void earlyStoppingEndsAJobSucceededAtThePatienceStepWithItsCheckpointFinal() throws Exception {
        String id = create(sftJob(
                "qa",
                Map.of(
                        "max_steps", 10,
                        "save_steps", 5,
                        "per_device_train_batch_size", 4,
                        "max_seq_length", 48,
                        "eval_strategy", "steps",
                        "eval_steps", 1,
                        "early_stopping_patience", 2,
                        "early_stopping_threshold", 1000.0)));
        JsonPath job = awaitState(id, "succeeded");
        assertThat(job.getString("resultPrefix")).isEqualTo("checkpoints/" + id + "/step-3/");
        List<EventTopics.Received> published = EventTopics.read(
                "checkpoints.created", v -> v.path("jobId").asText().equals(id), 1, Duration.ofSeconds(20));
        assertThat(published)
                .extracting(r -> r.value().path("step").asLong()
                        + (r.value().path("isFinal").asBoolean() ? " final" : ""))
                .containsExactly("3 final");
        JsonPath events = events(id);
        assertThat(events.getList("findAll { it.kind == 'state' }.message", String.class))
                .last()
                .asString()
                .startsWith("stopped early at step 3 of 10: 2 evaluations in a row did not improve eval_loss");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"dpo, prefs", "orpo, prefs", "kto, labelled", "reward, prefs"})
    void preferenceJobOnItsKindOfDataSucceeds(String objective, String dataset) {
        String id = create(Map.of(
                "baseModel",
                "tiny-qwen3",
                "dataset",
                Map.of("name", dataset, "version", "1"),
                "method",
                "lora",
                "objective",
                objective,
                "hyperparameters",
                Map.of("max_steps", 3, "per_device_train_batch_size", 4, "max_seq_length", 48, "beta", 0.2)));

        awaitState(id, "succeeded");
        assertThat(store.exists("checkpoints/" + id + "/step-3/adapter_model.safetensors"))
                .isTrue();
    }

    @Test
    void grpoJobOnPromptsSucceedsAndReportsItsRewards() {
        String id = create(Map.of(
                "baseModel",
                "tiny-qwen3",
                "dataset",
                Map.of("name", "prompts", "version", "1"),
                "method",
                "lora",
                "objective",
                "grpo",
                "hyperparameters",
                Map.of(
                        "max_steps", 2,
                        "num_generations", 4,
                        "per_device_train_batch_size", 8,
                        "max_completion_length", 8,
                        "max_seq_length", 48,
                        "reward_funcs", List.of("exact_match", "length:4"),
                        "reward_weights", List.of(1.0, 0.1))));

        awaitState(id, "succeeded");
        assertThat(store.exists("checkpoints/" + id + "/step-2/adapter_model.safetensors"))
                .isTrue();
        JsonPath events = events(id);
        // Rewards of completions of at most 8 tokens: exact match 0 or 1, length -|n - 4| / 4 in [-1, 0].
        assertThat(events.getList("findAll { it.kind == 'metrics' }.metrics.objective.reward", Double.class))
                .isNotEmpty()
                .allSatisfy(reward -> assertThat(reward).isBetween(-0.1, 1.0));
        assertThat(events.getList("findAll { it.kind == 'metrics' }.metrics.objective.kl", Double.class))
                .isNotEmpty()
                .allSatisfy(kl -> assertThat(kl).isNotNegative());
    }

    /**
     * PPO through the service: 8 prompts a rollout batch, 2 PPO epochs of 2 mini-batches, so 4 optimizer
     * steps per batch; the checkpoint at step 2 falls in the middle of the first batch and holds the value
     * head and the rollouts; progress events carry TRL's PPO metrics.
     */
    @Test
    void ppoJobOnPromptsSucceedsAndReportsItsScoresKlAndLosses() {
        String id = create(Map.of(
                "baseModel",
                "tiny-qwen3",
                "dataset",
                Map.of("name", "prompts", "version", "1"),
                "method",
                "lora",
                "objective",
                "ppo",
                "hyperparameters",
                Map.of(
                        "max_steps", 4,
                        "save_steps", 2,
                        "per_device_train_batch_size", 4,
                        "num_mini_batches", 2,
                        "num_ppo_epochs", 2,
                        "response_length", 8,
                        "max_seq_length", 48,
                        "reward_funcs", List.of("exact_match", "length:4"),
                        "reward_weights", List.of(1.0, 0.1))));

        awaitState(id, "succeeded");
        assertThat(store.exists("checkpoints/" + id + "/step-2/adapter_model.safetensors"))
                .isTrue();
        assertThat(store.exists("checkpoints/" + id + "/step-2/value_head.safetensors"))
                .isTrue();
        assertThat(store.exists("checkpoints/" + id + "/step-2/ppo_rollouts.safetensors"))
                .isTrue();
        assertThat(store.exists("checkpoints/" + id + "/step-4/value_head.safetensors"))
                .as("the final result exports the value head beside the adapter")
                .isTrue();
        JsonPath events = events(id);
        // Scores of completions of at most 8 tokens: exact match 0 or 1, length -|n - 4| / 4 in [-1, 0].
        assertThat(events.getList(
                        "findAll { it.kind == 'metrics' }.metrics.objective.'objective/scores'", Double.class))
                .isNotEmpty()
                .allSatisfy(score -> assertThat(score).isBetween(-0.1, 1.0));
        for (String metric : List.of("objective/kl", "policy/clipfrac_avg", "loss/value_avg", "objective/entropy")) {
            assertThat(events.getList(
                            "findAll { it.kind == 'metrics' }.metrics.objective.'" + metric + "'", Double.class))
                    .as(metric)
                    .isNotEmpty()
                    .allSatisfy(value -> assertThat(value).isNotNull());
        }
    }

    @Test
    void aBadPpoSettingIsRefusedNamingItAndItsValue() {
        reject(
                job(
                        "prompts",
                        "objective",
                        "ppo",
                        "hyperparameters",
                        Map.of("cliprange", 1.5, "reward_funcs", List.of("length:4"))),
                "hyperparameters.cliprange must be > 0 and <= 1, got 1.5");
        reject(
                job("prompts", "objective", "ppo", "hyperparameters", Map.of("kl_coef", 0.1)),
                "reward_funcs is required with objective ppo");
        reject(
                job("qa", "objective", "ppo", "hyperparameters", Map.of("reward_funcs", List.of("length:4"))),
                "objective: ppo needs");
    }

    @Test
    void unknownBaseModelIsRefusedListingTheKnownOnes() {
        // Weights without config.json: an import that has not finished, not a base model yet.
        store.putBytes("models/base/half-imported/model.safetensors", new byte[8], "application/octet-stream");

        String detail = given().contentType("application/json")
                .body(Map.of("baseModel", "nope", "dataset", Map.of("name", "qa", "version", "1")))
                .post("/api/jobs")
                .then()
                .statusCode(400)
                .body("field", equalTo("baseModel"))
                .extract()
                .jsonPath()
                .getString("detail");

        assertThat(detail).startsWith("baseModel: unknown base model 'nope'").contains("; known base models: ");
        List<String> known =
                List.of(detail.substring(detail.indexOf("known base models: ") + "known base models: ".length())
                        .split(", "));
        assertThat(known).contains("tiny-qwen3").doesNotContain("half-imported").isSorted();
    }

    @Test
    void invalidJobsFailFastWithFieldLevelMessages() {
        reject(
                Map.of("baseModel", "nope", "dataset", Map.of("name", "qa", "version", "1")),
                "baseModel: unknown base model 'nope'");
        reject(
                Map.of("baseModel", "tiny-qwen3", "dataset", Map.of("name", "qa", "version", "9")),
                "dataset: qa@9 is not prepared");
        reject(
                job("qa", "hyperparameters", Map.of("learning_rate", -1)),
                "hyperparameters.learning_rate must be > 0 and <= 1, got -1");
        reject(
                job("qa", "hyperparameters", Map.of("learningRate", 0.1)),
                "hyperparameters.learningRate is not a known setting; did you mean learning_rate?");
        reject(
                job("qa", "hyperparameters", Map.of("max_seq_length", 1_000_000)),
                "hyperparameters.max_seq_length must be <= the model's max_position_embeddings");
        reject(
                job("qa", "method", "full", "hyperparameters", Map.of("base_dtype", "int8")),
                "hyperparameters.base_dtype int8 cannot be used with method full: full fine-tuning trains every"
                        + " weight, so the base must be fp32");
        reject(
                job("qa", "hyperparameters", Map.of("precompute_ref_log_probs", true)),
                "hyperparameters.precompute_ref_log_probs cannot be used with objective sft, which has no reference"
                        + " model");
        reject(
                job("qa", "hyperparameters", Map.of("per_device_train_batch_size", 4096, "max_seq_length", 2048)),
                "hyperparameters: the job needs about ");
        reject(
                job("qa", "hyperparameters", Map.of("per_device_train_batch_size", 4096, "max_seq_length", 2048)),
                "but a training worker has ");
        reject(job("qa", "objective", "dpo"), "objective: dpo needs preference pairs");
        reject(job("qa", "objective", "reward"), "objective: reward needs preference pairs");
        reject(
                job("qa", "objective", "orpo"),
                "objective: orpo needs preference pairs (fields prompt, chosen, rejected), dataset qa@1 holds sft data");
        reject(
                job("prefs", "objective", "kto"),
                "objective: kto needs labelled completions (fields prompt, completion, label), dataset prefs@1 holds"
                        + " preference data: preference pairs (fields prompt, chosen, rejected)");
        reject(
                job("labelled", "objective", "dpo"),
                "objective: dpo needs preference pairs (fields prompt, chosen, rejected), dataset labelled@1 holds"
                        + " unpaired_preference data");
        reject(
                job("ids", "objective", "kto"),
                "objective: kto needs labelled completions (fields prompt, completion, label), dataset ids@1 holds"
                        + " tokenized data: pre-tokenized examples (fields input_ids and labels or completion_mask)");
        reject(job("qa", "method", "lorax"), "FineTuneMethod must be one of full, lora, qlora, got 'lorax'");
    }

    /** A job body for dataset {@code dataset}@1 on tiny-qwen3, with these further fields. */
    private static Map<String, Object> job(String dataset, Object... fields) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("baseModel", "tiny-qwen3");
        body.put("dataset", Map.of("name", dataset, "version", "1"));
        for (int i = 0; i < fields.length; i += 2) {
            body.put((String) fields[i], fields[i + 1]);
        }
        return body;
    }

    @Test
    void sameIdempotencyKeyReturnsTheSameJob() {
        Map<String, Object> body = Map.of(
                "baseModel",
                "tiny-qwen3",
                "dataset",
                Map.of("name", "qa", "version", "1"),
                "hyperparameters",
                Map.of("max_steps", 1, "per_device_train_batch_size", 4, "max_seq_length", 32),
                "idempotencyKey",
                UUID.randomUUID().toString());
        String first = given().contentType("application/json")
                .body(body)
                .post("/api/jobs")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        String second = given().contentType("application/json")
                .body(body)
                .post("/api/jobs")
                .then()
                .statusCode(200)
                .extract()
                .path("id");
        assertThat(second).isEqualTo(first);
        awaitState(first, "succeeded");
    }

    @Test
    void cancelStopsARunningJobWithinAFewStepsAndKeepsItsCheckpoint() {
        String id = create(Map.of(
                "baseModel",
                "tiny-qwen3",
                "dataset",
                Map.of("name", "qa", "version", "1"),
                "hyperparameters",
                Map.of("max_steps", 400, "save_steps", 2, "per_device_train_batch_size", 2, "max_seq_length", 32)));
        await().atMost(Duration.ofSeconds(120))
                .until(() -> given().get("/api/jobs/{id}", id)
                                .then()
                                .extract()
                                .jsonPath()
                                .getLong("lastCheckpointStep")
                        >= 2);

        given().post("/api/jobs/{id}/cancel", id).then().statusCode(200);

        JsonPath job = awaitState(id, "cancelled");
        assertThat(job.getLong("step")).isLessThan(400);
        assertThat(store.exists(
                        "checkpoints/" + id + "/step-" + job.getLong("lastCheckpointStep") + "/trainer_state.json"))
                .isTrue();
    }

    /**
     * A step of 4000 micro-batches (gradient accumulation) lasts far longer than the time a cancel
     * may take: the job stops inside its first step, within {@code cancel-check-interval} (2 s) plus
     * one micro-batch, and never applies the step cut short.
     */
    @Test
    void cancelStopsAJobBetweenMicroBatchesWhenItsStepsAreLong() {
        Fixtures.sftDataset(store, "many", 4000);
        String id = create(Fixtures.loraSftJob(
                "tiny-qwen3",
                "many",
                Map.of(
                        "max_steps",
                        2,
                        "per_device_train_batch_size",
                        1,
                        "gradient_accumulation_steps",
                        4000,
                        "max_seq_length",
                        32)));
        // The training loop has started its first step (its total is set just before).
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> given().get("/api/jobs/{id}", id).then().extract().jsonPath(), j -> {
                    assertThat(j.getString("state"))
                            .as(j.getString("failureReason"))
                            .isIn("validating", "queued", "running");
                    return j.getLong("totalSteps") > 0;
                });

        long requested = System.nanoTime();
        given().post("/api/jobs/{id}/cancel", id).then().statusCode(200);
        JsonPath job = awaitState(id, "cancelled");
        Duration took = Duration.ofNanos(System.nanoTime() - requested);

        assertThat(job.getLong("step"))
                .as("optimizer steps applied before the cancel")
                .isZero();
        // The promise is 5 s; the bound leaves room for a loaded machine (the step is 4000 micro-batches).
        assertThat(took).isLessThan(Duration.ofSeconds(15));
        assertThat(given().get("/api/jobs/{id}/events?limit=1000", id)
                        .then()
                        .extract()
                        .jsonPath()
                        .getString("find { it.kind == 'state' && it.state == 'cancelled' }.message"))
                .isEqualTo("cancelled at step 0; the last checkpoint is kept");
    }

    /**
     * Cancel works on a job that has not started: a job queued behind the worker's one busy slot is
     * cancelled at once, and the worker, when it reaches the job's record, commits past it without
     * running it.
     */
    @Test
    void aQueuedJobIsCancelledAtOnceAndNeverRuns() throws Exception {
        Fixtures.sftDataset(store, "many", 4000);
        String busy = create(Fixtures.loraSftJob(
                "tiny-qwen3",
                "many",
                Map.of(
                        "max_steps",
                        2,
                        "per_device_train_batch_size",
                        1,
                        "gradient_accumulation_steps",
                        4000,
                        "max_seq_length",
                        32)));
        awaitState(busy, "running");
        String queued = create(sftJob("qa", Map.of("max_steps", 2, "per_device_train_batch_size", 2)));
        assertThat(given().get("/api/jobs/{id}", queued)
                        .then()
                        .extract()
                        .jsonPath()
                        .getString("state"))
                .as("behind the busy job")
                .isEqualTo("queued");

        given().post("/api/jobs/{id}/cancel", queued)
                .then()
                .statusCode(200)
                .body("state", org.hamcrest.Matchers.equalTo("cancelled"));
        given().post("/api/jobs/{id}/cancel", busy).then().statusCode(200);
        awaitState(busy, "cancelled");

        EventTopics.RawRecord request = EventTopics.readRaw("training.jobs", queued, 1, Duration.ofSeconds(20))
                .get(0);
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> EventTopics.committedOffset("training-workers", "training.jobs", request.partition())
                        > request.offset());
        JsonPath events = given().get("/api/jobs/{id}/events?limit=1000", queued)
                .then()
                .extract()
                .jsonPath();
        assertThat(events.getList("findAll { it.kind == 'state' }.state", String.class))
                .doesNotContain("running")
                .endsWith("cancelled");
        assertThat(events.getString("find { it.kind == 'state' && it.state == 'cancelled' }.message"))
                .isEqualTo("cancelled before training started");
        assertThat(given().get("/api/jobs/{id}", queued)
                        .then()
                        .extract()
                        .jsonPath()
                        .getString("state"))
                .isEqualTo("cancelled");
    }

    @Test
    void duplicatedPreparedEventWithATriggerTrainsOnce() throws Exception {
        String dataset = "trig-" + UUID.randomUUID().toString().substring(0, 8);
        Fixtures.sftDataset(store, dataset);
        String event = "{\"datasetId\":\"" + dataset + "@1\",\"datasetName\":\"" + dataset + "\",\"version\":\"1\","
                + "\"kind\":\"sft\",\"preparedAt\":\"2026-12-05T00:00:00Z\",\"trigger\":{\"baseModel\":\"tiny-qwen3\","
                + "\"method\":\"lora\",\"objective\":\"sft\",\"hyperparameters\":"
                + "{\"max_steps\":3,\"per_device_train_batch_size\":2,\"max_seq_length\":32}}}";
        publishPrepared(dataset, event);
        publishPrepared(dataset, event);

        String id = "ds-" + dataset + "-1";
        JsonPath job = awaitState(id, "succeeded");
        assertThat(job.getInt("hyperparameters.max_steps")).isEqualTo(3);
        Thread.sleep(2000); // give a second run, if there were one, time to show itself
        JsonPath events = events(id);
        assertThat(events.getList("findAll { it.kind == 'state' && it.state == 'running' }"))
                .hasSize(1);
        assertThat(events.getList("findAll { it.kind == 'metrics' }.metrics.step", Integer.class))
                .endsWith(3)
                .isSorted()
                .doesNotHaveDuplicates();
    }

    @Test
    void aTriggerThatCannotRunIsRecordedAsAFailedJobWithTheReason() throws Exception {
        String dataset = "trigbad-" + UUID.randomUUID().toString().substring(0, 8);
        Fixtures.sftDataset(store, dataset);
        publishPrepared(
                dataset,
                "{\"datasetId\":\"" + dataset + "@1\",\"datasetName\":\"" + dataset + "\",\"version\":\"1\","
                        + "\"kind\":\"sft\",\"trigger\":{\"baseModel\":\"tiny-qwen3\",\"method\":\"lora\","
                        + "\"objective\":\"dpo\"}}");

        JsonPath job = awaitState("ds-" + dataset + "-1", "failed");
        assertThat(job.getString("failureReason")).startsWith("objective: dpo needs preference pairs");
    }

    @Test
    void aPreparedDatasetWithoutATriggerRequestsNothing() throws Exception {
        String dataset = "notrig-" + UUID.randomUUID().toString().substring(0, 8);
        Fixtures.sftDataset(store, dataset);
        triggers.apply(dev.finetune.events.EventJson.read(
                "{\"datasetId\":\"" + dataset + "@1\",\"datasetName\":\"" + dataset + "\",\"version\":\"1\","
                        + "\"kind\":\"sft\"}",
                dev.finetune.events.DatasetPrepared.class));

        given().get("/api/jobs/{id}", "ds-" + dataset + "-1").then().statusCode(404);
    }

    /** Publishes a datasets.prepared event as the dataset-service does: a CloudEvent keyed by dataset id. */
    private static void publishPrepared(String dataset, String json) throws Exception {
        dev.finetune.service.testing.EventTopics.publishCloudEvent(
                "datasets.prepared",
                dataset + "@1",
                "prepared:" + dataset + "@1",
                "dev.finetune.dataset.prepared.v1",
                json);
    }

    /** A lora sft job of tiny-qwen3 on version 1 of {@code dataset}. */
    static Map<String, Object> sftJob(String dataset, Map<String, Object> hyperparameters) {
        return Map.of(
                "baseModel",
                "tiny-qwen3",
                "dataset",
                Map.of("name", dataset, "version", "1"),
                "hyperparameters",
                hyperparameters);
    }

    /** The job's events, all of them, as the API lists them. */
    static JsonPath events(String id) {
        return given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    static String create(Map<String, Object> body) {
        return given().contentType("application/json")
                .body(body)
                .post("/api/jobs")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
    }

    static void reject(Map<String, Object> body, String message) {
        given().contentType("application/json")
                .body(body)
                .post("/api/jobs")
                .then()
                .statusCode(400)
                .body("detail", containsString(message));
    }

    static JsonPath awaitState(String id, String state) {
        return await().atMost(Duration.ofSeconds(180))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> given().get("/api/jobs/{id}", id).then().extract().jsonPath(), json -> {
                    String s = json.getString("state");
                    if (!state.equals(s) && ("failed".equals(s) || "succeeded".equals(s) || "cancelled".equals(s))) {
                        throw new AssertionError("job " + id + " ended " + s + ": " + json.getString("failureReason"));
                    }
                    return state.equals(s);
                });
    }
}
