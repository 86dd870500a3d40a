package dev.finetune.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A GRPO job rewarded by a registered reward model ({@code reward_funcs: [model:registry:<model>@<version
 * or alias>]}): the alias is pinned when the job is accepted, the worker downloads the version and
 * rewards completions with it, and the job's checkpoints name it, which the registry records in the
 * policy's lineage. An unknown reference or a version that is not a reward model is refused.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class RewardModelJobTest {
    private static final String BASE = "tiny-qwen3";

    @Inject
    ObjectStore store;

    private String judge;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.baseModel(store, BASE);
        Fixtures.promptDataset(store, "prompts");
        judge = "judge-" + UUID.randomUUID().toString().substring(0, 8);
        register(judge, 1, true);
        register(judge, 2, false); // the base itself: a language model
        store.putBytes(
                ObjectKeys.registryAlias(judge, "production"),
                ("{\"model\":\"" + judge + "\",\"alias\":\"production\",\"version\":1,\"revision\":1}")
                        .getBytes(StandardCharsets.UTF_8),
                "application/json");
    }

    @Test
    void aGrpoJobRewardedByARegisteredRewardModelRunsPinnedAndNamesItInItsCheckpoints() throws Exception {
        String id = JobLifecycleTest.create(job("model:registry:" + judge + "@production"));

        JsonPath job = JobLifecycleTest.awaitState(id, "succeeded");
        assertThat(job.getList("hyperparameters.reward_funcs", String.class))
                .containsExactly("model:registry:" + judge + "@1", "length:4");
        List<Map<String, Object>> rewards =
                JobLifecycleTest.events(id).getList("findAll { it.kind == 'metrics' }.metrics.objective");
        assertThat(rewards).isNotEmpty().allSatisfy(metrics -> assertThat(metrics.keySet())
                .anyMatch(name -> name.startsWith("rewards/model:") && name.endsWith("/" + judge + "/1/mean")));
        List<EventTopics.Received> published = EventTopics.read(
                "checkpoints.created",
                v -> v.path("jobId").asText().equals(id) && v.path("isFinal").asBoolean(),
                1,
                Duration.ofSeconds(20));
        assertThat(published.get(0).value().path("rewardModel").path("model").asText())
                .isEqualTo(judge);
        assertThat(published.get(0).value().path("rewardModel").path("version").asLong())
                .isEqualTo(1);
        assertThat(published.get(0).value().path("rewards").path("reward_funcs").toString())
                .as("the job's rewards, pinned, for eval-service to score the policy with")
                .isEqualTo("[\"model:registry:" + judge + "@1\",\"length:4\"]");
    }

    @Test
    void anUnknownReferenceOrAModelThatIsNotARewardModelIsRefused() {
        String field = "hyperparameters.reward_funcs[0]";
        JobLifecycleTest.reject(
                job("model:registry:" + judge + "@staging"),
                field + " registry:" + judge + "@staging: " + judge
                        + " has no alias staging; its aliases: production; its versions: 1, 2");
        JobLifecycleTest.reject(
                job("model:registry:" + judge + "@3"), judge + " has no complete version 3; its versions: 1, 2");
        JobLifecycleTest.reject(job("model:registry:nobody-here@1"), "no registered model nobody-here");
        JobLifecycleTest.reject(
                job("model:/tmp/judge"),
                field + " \"model:/tmp/judge\" must be model:registry:<model>@<version or alias> in a job");
        JobLifecycleTest.reject(
                job("model:registry:" + judge + "@2"),
                field + " \"model:registry:" + judge + "@2\": " + judge + " version 2 is not a reward model: its"
                        + " config.json architectures is [\"Qwen3ForCausalLM\"]");
    }

    private static Map<String, Object> job(String rewardModel) {
        return Map.of(
                "baseModel",
                BASE,
                "dataset",
                Map.of("name", "prompts", "version", "1"),
                "method",
                "lora",
                "objective",
                "grpo",
                "hyperparameters",
                Map.of(
                        "max_steps", 1,
                        "num_generations", 4,
                        "per_device_train_batch_size", 8,
                        "max_completion_length", 4,
                        "max_seq_length", 48,
                        "reward_funcs", List.of(rewardModel, "length:4")));
    }

    /**
     * Stores a full-model version as the registry-service leaves it: the base model with a score head
     * (a reward model, HF's sequence classifier) or as it is (a language model), with the base's tokenizer
     * files, then the manifest naming each file's size and SHA-256.
     */
    private void register(String name, long version, boolean rewardModel) throws Exception {
        Path base = Files.createTempDirectory("base-");
        String prefix = ObjectKeys.baseModelPrefix(BASE);
        for (ObjectInfo object : store.list(prefix)) {
            store.download(object.key(), base.resolve(object.key().substring(prefix.length())));
        }
        Path model = Files.createTempDirectory("reward-model-");
        try (CausalLm lm = CausalLm.load(base, Device.cpu())) {
            if (rewardModel) {
                lm.attachScoreHead(0, 7);
            }
            lm.save(model, DType.F32);
        }
        try (Stream<Path> files = Files.list(base)) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("tokenizer"))
                    .toList()) {
                Files.copy(file, model.resolve(file.getFileName()));
            }
        }
        StringBuilder files = new StringBuilder();
        try (Stream<Path> listing = Files.list(model)) {
            for (Path file : listing.sorted().toList()) {
                String fileName = file.getFileName().toString();
                store.putFile(ObjectKeys.registry(name, version, fileName), file, "application/octet-stream");
                files.append(files.length() == 0 ? "" : ",")
                        .append("\"")
                        .append(fileName)
                        .append("\":{\"size\":")
                        .append(Files.size(file))
                        .append(",\"sha256\":\"")
                        .append(Digests.of(file))
                        .append("\"}");
            }
        }
        store.putBytes(
                ObjectKeys.registryManifest(name, version),
                ("{\"model\":\"" + name + "\",\"version\":" + version + ",\"kind\":\"model\",\"baseModel\":\"" + BASE
                                + "\",\"files\":{" + files + "}}")
                        .getBytes(StandardCharsets.UTF_8),
                "application/json");
    }
}
