package dev.finetune.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class EventContractTest {
    private final ObjectMapper json = EventJson.mapper();
    private final Instant now = Instant.parse("2026-11-22T10:15:30Z");

    @Test
    void everyEventTypeIsVersionedUniqueAndOnAKnownTopic() {
        assertThat(EventCatalog.ALL)
                .extracting(EventCatalog.Entry::type)
                .doesNotHaveDuplicates()
                .allSatisfy(type -> assertThat(type).matches("dev\\.finetune\\.[a-z-]+\\.[a-z-]+\\.v[0-9]+"));
        assertThat(EventCatalog.ALL).extracting(EventCatalog.Entry::topic).allSatisfy(topic -> assertThat(Topics.ALL)
                .contains(topic));
        Set<Class<?>> cataloged =
                EventCatalog.ALL.stream().map(e -> e.recordType()).collect(Collectors.toSet());
        assertThat(cataloged).isEqualTo(Set.of(PipelineEvent.class.getPermittedSubclasses()));
    }

    @Test
    void eventsRoundTripThroughJsonWithEnumsAsStableCodes() throws Exception {
        List<PipelineEvent> events = List.of(
                new DatasetSubmitted(
                        "chats",
                        null,
                        URI.create("s3://upstream/exports/chats.jsonl"),
                        DatasetFormat.CHAT,
                        null,
                        Map.of("owner", "support"),
                        now),
                new DatasetPrepared(
                        "chats@1",
                        "chats",
                        "1",
                        DatasetKind.SFT,
                        new DatasetPrepared.SplitFile("datasets/prepared/chats/1/train.jsonl", 90, "ab"),
                        new DatasetPrepared.SplitFile("datasets/prepared/chats/1/validation.jsonl", 5, "cd"),
                        new DatasetPrepared.SplitFile("datasets/prepared/chats/1/test.jsonl", 5, "ef"),
                        "datasets/prepared/chats/1/stats.json",
                        "datasets/prepared/chats/1/report.json",
                        2,
                        3,
                        "00",
                        now,
                        new TrainingTrigger(
                                "qwen3-tiny",
                                FineTuneMethod.LORA,
                                Objective.SFT,
                                new Hyperparameters(Map.of("learning_rate", 1e-4)),
                                null)),
                new TrainingJobRequested(
                        "ftjob-1",
                        "qwen3-tiny",
                        "chats",
                        "1",
                        FineTuneMethod.QLORA,
                        Objective.DPO,
                        new Hyperparameters(Map.of("lora_r", 16, "lora_target_modules", List.of("all-linear"))),
                        "support",
                        "key-1",
                        now),
                new TrainingEvent(
                        "ftjob-1",
                        7,
                        TrainingEventKind.METRICS,
                        JobState.RUNNING,
                        null,
                        new TrainingEvent.Metrics(10, 100, 0.1, 2.5, 1e-4, 0.9, 5000, 60),
                        now),
                new TrainingEvent(
                        "ftjob-1",
                        8,
                        TrainingEventKind.METRICS,
                        JobState.RUNNING,
                        null,
                        new TrainingEvent.Metrics(
                                20,
                                100,
                                0.2,
                                2.4,
                                1e-4,
                                0.8,
                                5000,
                                50,
                                Map.of("eval_loss", 2.6),
                                Map.of("rewards/accuracies", 0.75, "rewards/margins", 0.4)),
                        now),
                new EvaluationCompleted(
                        "ftjob-1-step-10",
                        "ftjob-1",
                        "checkpoints/ftjob-1/step-10/",
                        10,
                        EvaluationStatus.GATES_FAILED,
                        Map.of("eval_loss", 1.5),
                        Map.of("eval_loss", 2.0),
                        Map.of("eval_loss", 1.8),
                        List.of(new EvaluationCompleted.GateOutcome("exact_match >= 0.5", false, "0.25 < 0.5")),
                        List.of(new EvaluationCompleted.SampleGeneration("Q", "A", "A", 1, 1)),
                        "r",
                        null,
                        now),
                new RegistryEvent(
                        "support-bot", 2, RegistryAction.ALIAS_SET, "production", 1L, "alice", "ftjob-1", now));

        for (PipelineEvent event : events) {
            String text = json.writeValueAsString(event);
            assertThat(json.readValue(text, event.getClass())).as(text).isEqualTo(event);
            assertThat(text).doesNotContain("cloudEvent");
        }
        JsonNode job = json.readTree(json.writeValueAsString(events.get(2)));
        assertThat(job.get("hyperparameters").get("lora_r").asInt())
                .as("settings travel as a plain object of HF/TRL names")
                .isEqualTo(16);
        assertThat(job.get("method").asText()).isEqualTo("qlora");
        assertThat(job.get("objective").asText()).isEqualTo("dpo");
        assertThat(job.get("requestedAt").asText()).isEqualTo("2026-11-22T10:15:30Z");
        assertThat(json.readTree(json.writeValueAsString(events.stream()
                                .filter(EvaluationCompleted.class::isInstance)
                                .findFirst()
                                .orElseThrow()))
                        .get("status")
                        .asText())
                .isEqualTo("gates_failed");
        JsonNode evaluated = json.readTree(json.writeValueAsString(events.get(4)));
        assertThat(evaluated.get("metrics").get("evaluation").get("eval_loss").asDouble())
                .as("an evaluated step's metrics carry transformers' eval_ names")
                .isEqualTo(2.6);
    }

    /** A checkpoint names its parent version and its rewards; one of a producer without those fields reads as none. */
    @Test
    void checkpointCarriesTheParentVersionItWasTrainedFrom() throws Exception {
        var continued = new CheckpointCreated(
                "ftjob-9",
                40,
                40,
                "checkpoints/ftjob-9/step-40/",
                "base",
                "d",
                "1",
                FineTuneMethod.LORA,
                Objective.SFT,
                new RegisteredVersion("base-d", 3),
                new RegisteredVersion("judge", 2),
                CheckpointCreated.rewardsOf(new Hyperparameters(Map.of(
                        "learning_rate", 1e-5,
                        "reward_funcs", List.of("model:registry:judge@2", "regex:\\d+"),
                        "reward_weights", List.of(1.0, 0.5)))),
                true,
                now);
        String text = json.writeValueAsString(continued);
        assertThat(json.readValue(text, CheckpointCreated.class)).isEqualTo(continued);
        assertThat(json.readTree(text).get("parent").toString()).isEqualTo("{\"model\":\"base-d\",\"version\":3}");
        assertThat(json.readTree(text).get("rewardModel").toString()).isEqualTo("{\"model\":\"judge\",\"version\":2}");
        assertThat(json.readTree(text).get("rewards").toString())
                .as("only the reward settings, under TRL's names")
                .isEqualTo(
                        "{\"reward_funcs\":[\"model:registry:judge@2\",\"regex:\\\\d+\"],\"reward_weights\":[1.0,0.5]}");

        String withoutParent = text.replace(",\"parent\":{\"model\":\"base-d\",\"version\":3}", "")
                .replace(",\"rewardModel\":{\"model\":\"judge\",\"version\":2}", "")
                .replaceAll(",\"rewards\":\\{[^}]*}", "");
        assertThat(withoutParent)
                .doesNotContain("parent")
                .doesNotContain("rewardModel")
                .doesNotContain("rewards");
        CheckpointCreated old = EventJson.read(withoutParent, CheckpointCreated.class);
        assertThat(old.parent()).isNull();
        assertThat(old.rewardModel()).isNull();
        assertThat(old.rewards().values())
                .as("a producer that predates rewards sends none")
                .isEmpty();
    }

    @Test
    void eventKnowsItsTypeAndIsKeyedByWhatItDescribes() {
        var event = new CheckpointCreated(
                "ftjob-9",
                40,
                100,
                "checkpoints/ftjob-9/step-40/",
                "base",
                "d",
                "1",
                FineTuneMethod.LORA,
                Objective.SFT,
                null,
                null,
                null,
                false,
                now);
        assertThat(event.cloudEventType()).isEqualTo("dev.finetune.checkpoint.created.v1");
        assertThat(event.cloudEventSubject()).isEqualTo("ftjob-9");
    }

    @Test
    void unknownEnumCodeIsRejectedListingTheValidCodes() {
        assertThatThrownBy(() -> json.readValue("{\"jobId\":\"j\",\"method\":\"lora2\"}", TrainingJobRequested.class))
                .hasMessageContaining("FineTuneMethod must be one of full, lora, qlora, got 'lora2'");
    }

    @Test
    void unknownFieldIsRefusedNamingTheEventTypeTheFieldAndTheClosestKnownOne() {
        assertThatThrownBy(() -> EventJson.read(
                        "{\"model\":\"m\",\"version\":3,\"action\":\"version_archived\",\"verison\":4}",
                        RegistryEvent.class))
                .isInstanceOf(dev.finetune.errors.InvalidInputException.class)
                .hasMessageStartingWith(RegistryEvent.TYPE + " event: ")
                .hasMessageContaining("unknown field 'verison'; did you mean 'version'?")
                .extracting(e -> ((dev.finetune.errors.InvalidInputException) e).field())
                .isEqualTo("verison");
        assertThatThrownBy(() -> EventJson.read(
                        "{\"datasetId\":\"d@1\",\"train\":{\"key\":\"k\",\"example_count\":3}}", DatasetPrepared.class))
                .hasMessageContaining(DatasetPrepared.TYPE + " event: unknown field 'train.example_count'"
                        + " (known fields: examples, key, sha256)");
    }

    @Test
    void deadLetterTopicNamesTheConsumerGroup() {
        assertThat(Topics.deadLetter(Topics.DATASETS_PREPARED, "training-service"))
                .isEqualTo("datasets.prepared.dlq.training-service");
        assertThatThrownBy(() -> Topics.deadLetter("nope", "g")).hasMessageContaining("'nope'");
    }

    @Test
    void terminalStatesAreExactlySucceededFailedCancelled() {
        assertThat(List.of(JobState.values()).stream().filter(JobState::isTerminal))
                .containsExactly(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED);
    }
}
