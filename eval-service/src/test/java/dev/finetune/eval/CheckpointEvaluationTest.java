package dev.finetune.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.eval.run.BaseMetricsCache;
import dev.finetune.eval.run.EvaluationPhases;
import dev.finetune.eval.run.EvaluationRunner;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.Objective;
import dev.finetune.events.RegisteredVersion;
import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.inference.Generator;
import dev.finetune.llm.inference.RewardModel;
import dev.finetune.llm.inference.Scorer;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.llm.train.ChatDatasets;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class CheckpointEvaluationTest {
    static final Duration WAIT = Duration.ofSeconds(60);

    @Inject
    ObjectStore store;

    @Inject
    InMemorySpanExporter spans;

    @Inject
    EvaluationRunner runner;

    @Inject
    EvalSettings settings;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.prepare(store);
    }

    @Test
    void trainedAdapterBeatsItsBaseModelOnTheValidationSplitInTheJobsTrace() throws Exception {
        String job = job();
        String prefix = Fixtures.trainedCheckpoint(store, job, 40);
        String traceId = UUID.randomUUID().toString().replace("-", "");
        Broker.publish(
                Broker.checkpoint(job, 40, prefix), "checkpoint:" + prefix, "00-" + traceId + "-00f067aa0ba902b7-01");

        JsonNode event = Broker.evaluations(job + "-step-40", 1, WAIT).get(0).value();

        assertThat(event.path("status").asText()).isEqualTo("passed");
        double loss = event.path("metrics").path("eval_loss").asDouble();
        double baseLoss = event.path("baseMetrics").path("eval_loss").asDouble();
        System.out.printf(
                "trained adapter: eval_loss %.4f vs base %.4f, metrics %s, base %s, prompted base %s%n",
                loss, baseLoss, event.path("metrics"), event.path("baseMetrics"), event.path("promptBaselineMetrics"));
        assertThat(loss).isLessThan(0.9 * baseLoss);
        assertThat(event.path("metrics").path("perplexity").asDouble()).isCloseTo(Math.exp(loss), within(1e-6));
        assertThat(event.path("metrics").path("mean_token_accuracy").asDouble())
                .isGreaterThan(
                        event.path("baseMetrics").path("mean_token_accuracy").asDouble());
        for (String metric : List.of("exact_match", "token_f1", "rouge_1", "rouge_2", "rouge_l")) {
            assertThat(event.path("metrics").path(metric).isNumber()).as(metric).isTrue();
            assertThat(event.path("baseMetrics").path(metric).isNumber())
                    .as("base " + metric)
                    .isTrue();
        }
        assertThat(event.path("gates").get(0).path("gate").asText()).isEqualTo("eval_loss <= 0.9000 * base");
        assertThat(event.path("gates").get(0).path("passed").asBoolean()).isTrue();
        // Sample generations travel with the event, next to their references.
        assertThat(event.path("samples").size()).isGreaterThan(0);
        assertThat(event.path("samples").get(0).path("reference").asText()).isNotEmpty();
        assertThat(event.path("samples").get(0).has("generated")).isTrue();
        assertThat(event.path("reportKey").asText()).isEqualTo(prefix + "evaluation.json");

        JsonNode report = dev.finetune.events.EventJson.mapper().readTree(store.getBytes(prefix + "evaluation.json"));
        assertThat(report.path("generations")).hasSize(4); // the whole test split
        assertThat(report.path("samples").size()).isBetween(1, 5);
        assertThat(report.path("improvement").path("eval_loss").asDouble()).isCloseTo(baseLoss - loss, within(1e-9));
        assertThat(report.path("scoredTokens").asLong()).isPositive();
        // The prompt baseline: the base model with the system prompt and three worked examples from
        // the train split, on the same examples and metrics.
        for (String metric : List.of("eval_loss", "mean_token_accuracy", "exact_match", "rouge_l")) {
            assertThat(event.path("promptBaselineMetrics").path(metric).isNumber())
                    .as("prompt baseline " + metric)
                    .isTrue();
        }
        assertThat(report.path("promptBaseline").path("examples")).hasSize(3);
        assertThat(report.path("promptBaseline")
                        .path("examples")
                        .get(0)
                        .get(0)
                        .path("content")
                        .asText())
                .as("a worked example is a train-split question (train holds i < 32; held-out splits 32 to 43)")
                .matches("What is ([0-9]|[12][0-9]|3[01]) plus \\1\\?");
        JsonNode promptedGeneration = report.path("promptBaselineGenerations").get(0);
        assertThat(report.path("promptBaselineGenerations")).hasSize(4);
        assertThat(promptedGeneration.path("reference").asText())
                .isEqualTo(report.path("generations").get(0).path("reference").asText());
        assertThat(promptedGeneration.path("prompt").asText())
                .contains("Answer the way the examples do")
                .contains(report.path("promptBaseline")
                        .path("examples")
                        .get(0)
                        .get(1)
                        .path("content")
                        .asText())
                .endsWith(report.path("generations").get(0).path("prompt").asText());

        await().atMost(WAIT).untilAsserted(() -> assertThat(phases(job + "-step-40"))
                .extracting(SpanData::getName)
                .contains(
                        "eval.load-data",
                        "eval.load-checkpoint",
                        "eval.apply-checkpoint",
                        "eval.checkpoint-metrics",
                        "eval.publish"));
        assertThat(phases(job + "-step-40"))
                .allSatisfy(span -> assertThat(span.getTraceId()).isEqualTo(traceId));
        // The gates take microseconds: their outcome is an event on the evaluation's span.
        SpanData evaluation = phases(job + "-step-40").stream()
                .filter(s -> s.getName().equals("eval.evaluation"))
                .findFirst()
                .orElseThrow();
        assertThat(evaluation.getEvents())
                .filteredOn(e -> e.getName().equals("eval.gates"))
                .singleElement()
                .satisfies(e -> assertThat(e.getAttributes().get(AttributeKey.stringKey("eval.gates.outcome")))
                        .isEqualTo("passed"));
        // Every span of the evaluation says what it evaluates (the event's job, base model...).
        assertThat(phases(job + "-step-40"))
                .allSatisfy(span -> assertThat(span.getAttributes().get(AttributeKey.stringKey("job.id")))
                        .isEqualTo(job));
    }

    @Test
    void freshAdapterScoresExactlyItsBaseWhoseLossMatchesAnIndependentComputation() throws Exception {
        String job = job();
        String first = Fixtures.freshCheckpoint(store, job, 1);
        String second = Fixtures.freshCheckpoint(store, job, 2);
        Broker.publish(Broker.checkpoint(job, 1, first), "checkpoint:" + first, null);
        JsonNode one = Broker.evaluations(job + "-step-1", 1, WAIT).get(0).value();
        String baseKey = BaseMetricsCache.key(
                Fixtures.BASE, Fixtures.DATASET, "1", runner.limits(), BaseDType.FP32, BaseMetricsCache.ZERO_SHOT);
        Instant cached = store.stat(baseKey).orElseThrow().lastModified();
        // The prompt baseline has an entry of its own, named by its settings.
        String promptedKey = store.list("evaluations/base/" + Fixtures.BASE + "/" + Fixtures.DATASET + "/1/").stream()
                .map(ObjectInfo::key)
                .filter(k -> k.startsWith(baseKey.substring(0, baseKey.length() - ".json".length()) + "-prompt-"))
                .findFirst()
                .orElseThrow();
        Instant promptedCached = store.stat(promptedKey).orElseThrow().lastModified();
        Thread.sleep(1100); // S3 timestamps have one-second resolution
        Broker.publish(Broker.checkpoint(job, 2, second), "checkpoint:" + second, null);
        JsonNode two = Broker.evaluations(job + "-step-2", 1, WAIT).get(0).value();

        // B = 0: the adapter changes nothing, so the loss-ratio gate (0.9) fails
        assertThat(one.path("status").asText()).isEqualTo("gates_failed");
        for (String metric : List.of(
                "eval_loss", "mean_token_accuracy", "exact_match", "token_f1", "rouge_1", "rouge_2", "rouge_l")) {
            assertThat(one.path("metrics").path(metric).asDouble())
                    .isCloseTo(one.path("baseMetrics").path(metric).asDouble(), within(1e-5));
        }
        // base metrics are computed once per (base model, dataset version) and reused
        assertThat(two.path("baseMetrics")).isEqualTo(one.path("baseMetrics"));
        assertThat(store.stat(baseKey).orElseThrow().lastModified()).isEqualTo(cached);
        assertThat(two.path("promptBaselineMetrics")).isEqualTo(one.path("promptBaselineMetrics"));
        assertThat(store.stat(promptedKey).orElseThrow().lastModified()).isEqualTo(promptedCached);

        assertThat(one.path("baseMetrics").path("eval_loss").asDouble()).isCloseTo(independentBaseLoss(), within(1e-4));
    }

    @Test
    void duplicateCheckpointEventsEvaluateOnce() throws Exception {
        String job = job();
        String prefix = Fixtures.freshCheckpoint(store, job, 3);
        Broker.publish(Broker.checkpoint(job, 3, prefix), "checkpoint:" + prefix, null);
        Broker.publish(Broker.checkpoint(job, 3, prefix), "checkpoint:" + prefix, null);
        Broker.publish(Broker.checkpoint(job, 3, prefix), "redelivered-" + UUID.randomUUID(), null);

        List<EventTopics.Received> events = Broker.evaluations(job + "-step-3", 3, WAIT);

        assertThat(events).extracting(e -> e.headers().get("ce_id")).containsOnly("evaluation:" + job + "-step-3");
        assertThat(events)
                .extracting(e -> e.value().path("metrics"))
                .containsOnly(events.get(0).value().path("metrics"));
        // a re-evaluation would carry a later completion time: the stored result is re-published as it is
        assertThat(events)
                .extracting(e -> e.value().path("completedAt").asText())
                .containsOnly(events.get(0).value().path("completedAt").asText());
    }

    @Test
    void brokenOrMissingCheckpointsProduceFailedEvaluationsAndTheConsumerMovesOn() throws Exception {
        String job = job();
        String broken = Fixtures.freshCheckpoint(store, job, 4);
        Fixtures.put(store, broken + "adapter_model.safetensors", "not a safetensors file");
        Broker.publish(Broker.checkpoint(job, 4, broken), "checkpoint:" + broken, null);
        String missing = "checkpoints/" + job + "/step-5/";
        Broker.publish(Broker.checkpoint(job, 5, missing), "checkpoint:" + missing, null);
        String good = Fixtures.freshCheckpoint(store, job, 6);
        Broker.publish(Broker.checkpoint(job, 6, good), "checkpoint:" + good, null);

        JsonNode brokenEvent =
                Broker.evaluations(job + "-step-4", 1, WAIT).get(0).value();
        assertThat(brokenEvent.path("status").asText()).isEqualTo("error");
        assertThat(brokenEvent.path("error").asText())
                .startsWith("checkpoint " + broken + " cannot be loaded as an adapter of tiny-qwen3")
                .contains("adapter_model.safetensors");
        assertThat(store.exists(broken + "evaluation.json")).isTrue();

        JsonNode missingEvent =
                Broker.evaluations(job + "-step-5", 1, WAIT).get(0).value();
        assertThat(missingEvent.path("status").asText()).isEqualTo("error");
        assertThat(missingEvent.path("error").asText()).isEqualTo("checkpoint: nothing stored under " + missing);

        assertThat(Broker.evaluations(job + "-step-6", 1, WAIT)
                        .get(0)
                        .value()
                        .path("status")
                        .asText())
                .isEqualTo("gates_failed");
    }

    /** Mean -log p of the assistant tokens of the first 8 validation examples (64 tokens each), via llm's Scorer. */
    static double independentBaseLoss() throws Exception {
        Path validation = Files.createTempFile("validation", ".jsonl");
        Files.writeString(validation, Fixtures.conversations(32, 40));
        try (Tokenizer tokenizer = Tokenizer.load(Fixtures.baseDir());
                CausalLm model = CausalLm.load(Fixtures.baseDir())) {
            ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
            double sum = 0;
            long count = 0;
            for (var messages : ChatDatasets.conversations(validation)) {
                TrainingSequence s = encoder.sft(messages, true, 64).orElseThrow();
                float[] logProbs = Scorer.tokenLogProbs(model, List.of(s.ids())).get(0); // logProbs[t-1] = log p(x_t)
                for (int t = 1; t < s.length(); t++) {
                    if (s.targets()[t]) {
                        sum -= logProbs[t - 1];
                        count++;
                    }
                }
            }
            return sum / count;
        }
    }

    private List<SpanData> phases(String evaluationId) {
        return spans.getFinishedSpanItems().stream()
                .filter(s -> evaluationId.equals(
                        s.getAttributes().get(AttributeKey.stringKey(EvaluationPhases.EVALUATION_ID))))
                .toList();
    }

    /**
     * A GRPO policy's checkpoint carries its job's rewards (a rule, a regex and a registered reward
     * model, weighted): eval-service reports the policy's mean reward on its answers to the held-out
     * prompts, its KL to the base (the adapters off) and the base model's own mean reward; each number
     * recomputed here from the models, one sequence at a time, the log-softmax in double precision.
     */
    @Test
    void policyIsScoredByItsJobsRewardsAndItsKlToTheBaseAsRecomputedHere() throws Exception {
        String job = job();
        String prefix = Fixtures.trainedCheckpoint(store, job, 40);
        Fixtures.registerRewardModel(store, "doubling-judge", 1);
        List<String> funcs = List.of("exact_match", "regex:^\\d+$", "model:registry:doubling-judge@1");
        List<Double> weights = List.of(1.0, 0.5, 0.25);
        publishPolicy(job, 40, prefix, Fixtures.PROMPTS_DATASET, Objective.GRPO, funcs, weights);

        JsonNode event = Broker.evaluations(job + "-step-40", 1, WAIT).get(0).value();

        assertThat(event.path("status").asText())
                .as(event.path("error").asText())
                .isIn("passed", "gates_failed");
        System.out.printf(
                "policy: reward %s, kl %s; base reward %s%n",
                event.path("metrics").path("reward"),
                event.path("metrics").path("kl"),
                event.path("baseMetrics").path("reward"));
        double[] expected = recomputedRewardsAndKl(weights);
        assertThat(event.path("metrics").path("reward").asDouble()).isCloseTo(expected[0], within(1e-4));
        assertThat(event.path("metrics").path("kl").asDouble())
                .isGreaterThan(1e-3) // 40 steps at a high learning rate moved the policy
                .isCloseTo(expected[1], within(1e-4 + 1e-3 * expected[1]));
        assertThat(event.path("baseMetrics").path("reward").asDouble()).isCloseTo(expected[2], within(1e-4));
        assertThat(event.path("baseMetrics").has("kl")).isFalse();
        assertThat(event.path("metrics").path("reward").asDouble())
                .as("the trained adapter answers the doubling questions; the base model does not")
                .isGreaterThan(event.path("baseMetrics").path("reward").asDouble());
    }

    /**
     * PPO's classic data: prompts without reference answers, rewarded by a reward model (and a format
     * rule). Every held-out prompt is answered and rewarded, with the same figures as the prompts with
     * references give (the rewards never read them); rewards that compare with a reference refuse
     * such prompts naming why.
     */
    @Test
    void promptsWithoutReferencesAreRewardedByRewardsThatNeedNone() throws Exception {
        String dataset = "doubling-prompts-unreferenced";
        String prepared = ObjectKeys.preparedDatasetPrefix(dataset, "1");
        Fixtures.put(store, prepared + "validation.jsonl", Fixtures.prompts(32, 40, false));
        Fixtures.put(store, prepared + "test.jsonl", Fixtures.prompts(40, 44, false));
        Fixtures.put(store, prepared + "manifest.json", "{\"status\":\"prepared\",\"kind\":\"prompt\"}");
        Fixtures.registerRewardModel(store, "doubling-judge", 1);
        String job = job();
        String prefix = Fixtures.trainedCheckpoint(store, job, 40);
        List<Double> weights = List.of(0.5, 0.25);
        publishPolicy(
                job,
                40,
                prefix,
                dataset,
                Objective.PPO,
                List.of("regex:^\\d+$", "model:registry:doubling-judge@1"),
                weights);
        publishPolicy(
                job,
                41,
                Fixtures.trainedCheckpoint(store, job, 41),
                dataset,
                Objective.PPO,
                List.of("exact_match"),
                List.of());

        JsonNode rewarded = Broker.evaluations(job + "-step-40", 1, WAIT).get(0).value();
        JsonNode refused = Broker.evaluations(job + "-step-41", 1, WAIT).get(0).value();

        assertThat(rewarded.path("status").asText())
                .as(rewarded.path("error").asText())
                .isIn("passed", "gates_failed");
        double[] expected = recomputedRewardsAndKl(List.of(0.0, weights.get(0), weights.get(1)));
        assertThat(rewarded.path("metrics").path("reward").asDouble()).isCloseTo(expected[0], within(1e-4));
        assertThat(rewarded.path("metrics").path("kl").asDouble())
                .isGreaterThan(1e-3)
                .isCloseTo(expected[1], within(1e-4 + 1e-3 * expected[1]));
        assertThat(rewarded.path("baseMetrics").path("reward").asDouble()).isCloseTo(expected[2], within(1e-4));
        assertThat(rewarded.path("metrics").has("exact_match"))
                .as("no reference to match")
                .isFalse();
        assertThat(refused.path("status").asText()).isEqualTo("error");
        assertThat(refused.path("error").asText())
                .contains("need each prompt's reference answer, and none of the 4 held-out prompts has one");
    }

    /**
     * A registered reward model is used only as the registry recorded it: a file changed in the store
     * after registration ends the evaluation in error naming the object and both sizes and hashes, and
     * a version without its manifest (not complete) is refused as such.
     */
    @Test
    void registeredRewardModelIsUsedOnlyAsTheRegistryRecordedIt() throws Exception {
        Fixtures.registerRewardModel(store, "tampered-judge", 1);
        String weightsKey = ObjectKeys.registry("tampered-judge", 1, "adapter_model.safetensors");
        byte[] weights = store.getBytes(weightsKey);
        weights[weights.length - 1] ^= 1; // one bit of the last weight
        store.putBytes(weightsKey, weights, "application/octet-stream");
        Fixtures.registerRewardModel(store, "unfinished-judge", 1);
        store.delete(ObjectKeys.registryManifest("unfinished-judge", 1));
        String job = job();
        String prefix = Fixtures.trainedCheckpoint(store, job, 40);
        publishPolicy(
                job,
                40,
                prefix,
                Fixtures.PROMPTS_DATASET,
                Objective.GRPO,
                List.of("model:registry:tampered-judge@1"),
                List.of());
        publishPolicy(
                job,
                41,
                Fixtures.trainedCheckpoint(store, job, 41),
                Fixtures.PROMPTS_DATASET,
                Objective.GRPO,
                List.of("model:registry:unfinished-judge@1"),
                List.of());

        JsonNode tampered = Broker.evaluations(job + "-step-40", 1, WAIT).get(0).value();
        JsonNode unfinished =
                Broker.evaluations(job + "-step-41", 1, WAIT).get(0).value();

        assertThat(tampered.path("status").asText()).isEqualTo("error");
        assertThat(tampered.path("error").asText())
                .contains(weightsKey + " does not match the version's manifest: " + weights.length
                        + " bytes with SHA-256 " + Digests.of(weights) + ", recorded " + weights.length
                        + " bytes with SHA-256 ");
        assertThat(unfinished.path("status").asText()).isEqualTo("error");
        assertThat(unfinished.path("error").asText())
                .contains(
                        "registered model unfinished-judge@1 has no manifest at registry/unfinished-judge/1/manifest.json:"
                                + " it is not a complete version");
    }

    /** A policy checkpoint of {@code objective} trained against the registered doubling judge with these rewards. */
    private static void publishPolicy(
            String job,
            int step,
            String prefix,
            String dataset,
            Objective objective,
            List<String> funcs,
            List<Double> weights)
            throws Exception {
        Broker.publish(
                new CheckpointCreated(
                        job,
                        step,
                        step,
                        prefix,
                        Fixtures.BASE,
                        dataset,
                        "1",
                        FineTuneMethod.LORA,
                        objective,
                        null,
                        new RegisteredVersion("doubling-judge", 1),
                        new Hyperparameters(Map.of("reward_funcs", funcs, "reward_weights", weights)),
                        true,
                        Instant.now()),
                "checkpoint:" + prefix,
                null);
    }

    /**
     * {policy reward, KL(policy || base) by k3 per answer token, base reward} on the test split's
     * prompts (what is i plus i, for i in 40..43), as {@link #policyIsScoredByItsJobsRewardsAndItsKlToTheBaseAsRecomputedHere} declares.
     */
    private double[] recomputedRewardsAndKl(List<Double> weights) throws Exception {
        Path base = Fixtures.baseDir();
        try (Tokenizer tokenizer = Tokenizer.load(base);
                CausalLm model = CausalLm.load(base);
                RewardModel judge = RewardModel.load(base, Fixtures.rewardAdapter())) {
            Adapters adapters = PeftAdapter.load(model, Fixtures.trainedAdapter());
            ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
            List<long[]> prompts = new ArrayList<>();
            List<String> references = new ArrayList<>();
            for (int i = 40; i < 44; i++) {
                prompts.add(encoder.generationPrompt(
                        List.of(ChatMessage.user("What is " + i + " plus " + i + "?")), settings.maxTokens()));
                references.add(Integer.toString(2 * i));
            }
            Set<Long> stops = new TreeSet<>();
            tokenizer.specialTokens().stopIds().forEach(t -> stops.add((long) t));
            model.config().eosTokenIds().forEach(t -> stops.add((long) t));
            GenerationConfig greedy =
                    GenerationConfig.greedy(settings.maxNewTokens()).withStopTokens(stops);
            List<long[]> answers = Generator.generate(model, prompts, greedy, settings.batchSize());
            double policyReward = 0;
            double kl = 0;
            long tokens = 0;
            for (int i = 0; i < prompts.size(); i++) {
                long[] sequence = concat(prompts.get(i), answers.get(i));
                policyReward += reward(tokenizer, judge, weights, sequence, answers.get(i), references.get(i), stops);
                double[] policyLogProbs = tokenLogProbs(model, sequence, prompts.get(i).length);
                double[] baseLogProbs;
                try (Adapters.Switch off = adapters.disabled()) {
                    baseLogProbs = tokenLogProbs(model, sequence, prompts.get(i).length);
                }
                for (int t = 0; t < policyLogProbs.length; t++) {
                    double r = baseLogProbs[t] - policyLogProbs[t];
                    kl += Math.exp(r) - r - 1;
                    tokens++;
                }
            }
            List<long[]> baseAnswers;
            try (Adapters.Switch off = adapters.disabled()) {
                baseAnswers = Generator.generate(model, prompts, greedy, settings.batchSize());
            }
            double baseReward = 0;
            for (int i = 0; i < prompts.size(); i++) {
                long[] sequence = concat(prompts.get(i), baseAnswers.get(i));
                baseReward += reward(tokenizer, judge, weights, sequence, baseAnswers.get(i), references.get(i), stops);
            }
            return new double[] {policyReward / prompts.size(), kl / tokens, baseReward / prompts.size()};
        }
    }

    /** exact_match, regex ^\\d+$ and the judge's score, weighted. */
    private static double reward(
            Tokenizer tokenizer,
            RewardModel judge,
            List<Double> weights,
            long[] sequence,
            long[] answer,
            String reference,
            Set<Long> stops) {
        int length = answer.length > 0 && stops.contains(answer[answer.length - 1]) ? answer.length - 1 : answer.length;
        String text = tokenizer.decode(
                Arrays.stream(answer, 0, length).mapToInt(id -> (int) id).toArray(), true);
        double exact = text.strip().equals(reference) ? 1 : 0;
        double digits = Pattern.compile("^\\d+$").matcher(text).find() ? 1 : 0;
        return weights.get(0) * exact + weights.get(1) * digits + weights.get(2) * judge.scores(List.of(sequence))[0];
    }

    /** log p(token t | tokens before t) for each t from {@code from}, a softmax of the logits in double precision. */
    @SuppressWarnings("try")
    private static double[] tokenLogProbs(CausalLm model, long[] sequence, int from) {
        float[] logits;
        int vocab;
        try (NDScope ignored = new NDScope()) {
            NDArray out = model.forward(model.manager().create(new long[][] {sequence}), null, null); // [1, T, V]
            vocab = (int) out.getShape().get(2);
            logits = out.toFloatArray();
        }
        double[] logProbs = new double[sequence.length - from];
        for (int t = from; t < sequence.length; t++) {
            int row = (t - 1) * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                max = Math.max(max, logits[row + v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum += Math.exp(logits[row + v] - max);
            }
            logProbs[t - from] = logits[row + (int) sequence[t]] - max - Math.log(sum);
        }
        return logProbs;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static String job() {
        return "job-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
