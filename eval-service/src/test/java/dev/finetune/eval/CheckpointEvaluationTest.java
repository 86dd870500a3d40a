package dev.finetune.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.eval.run.BaseMetricsCache;
import dev.finetune.eval.run.EvaluationPhases;
import dev.finetune.eval.run.EvaluationRunner;
import dev.finetune.llm.inference.Scorer;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.llm.train.ChatDatasets;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectInfo;
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
import java.util.List;
import java.util.Map;
import java.util.UUID;
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

    private static String job() {
        return "job-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
