package dev.finetune.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A prompt-only dataset (GRPO's and PPO's data: prompts with an optional reference answer) is evaluated
 * by generation alone: the model answers each held-out prompt that has a reference and is scored
 * against it, exactly as it answers the same questions asked as conversations.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class PromptDatasetEvaluationTest {
    private static final String NO_REFERENCES = "doubling-prompts-unreferenced";

    @Inject
    ObjectStore store;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.prepare(store);
        String prefix = ObjectKeys.preparedDatasetPrefix(NO_REFERENCES, "1");
        Fixtures.put(store, prefix + "validation.jsonl", Fixtures.prompts(32, 40, false));
        Fixtures.put(store, prefix + "test.jsonl", Fixtures.prompts(40, 44, false));
        Fixtures.put(store, prefix + "manifest.json", "{\"status\":\"prepared\",\"kind\":\"prompt\"}");
    }

    @Test
    void promptsAreAnsweredAndScoredAgainstTheirReferencesAsTheSameConversationsAre() throws Exception {
        String prefix = Fixtures.trainedCheckpoint(
                store, "prompts-" + UUID.randomUUID().toString().substring(0, 8), 1);

        JsonPath prompts = EvaluationApiTest.adHoc(prefix, Fixtures.PROMPTS_DATASET, Map.of());
        JsonPath conversations = EvaluationApiTest.adHoc(prefix, Fixtures.DATASET, Map.of());

        assertThat(prompts.getString("status")).as(prompts.getString("error")).isIn("passed", "gates_failed");
        System.out.printf(
                "prompt dataset: %s; as conversations: %s%n",
                prompts.getMap("metrics"), conversations.getMap("metrics"));
        assertThat(prompts.getMap("metrics").keySet())
                .containsExactlyInAnyOrder("exact_match", "token_f1", "rouge_1", "rouge_2", "rouge_l");
        for (String metric : prompts.<String, Object>getMap("metrics").keySet()) {
            assertThat(prompts.getDouble("metrics." + metric))
                    .as(metric)
                    .isEqualTo(conversations.getDouble("metrics." + metric));
        }
        assertThat(prompts.getList("generations.output")).isEqualTo(conversations.getList("generations.output"));
        assertThat(prompts.getList("generations.reference"))
                .containsExactly("80", "82", "84", "86")
                .isEqualTo(conversations.getList("generations.reference"));
        assertThat(prompts.getMap("baseMetrics")).containsKey("exact_match").doesNotContainKey("eval_loss");
    }

    @Test
    void promptsWithoutReferencesCannotBeScoredAndTheEvaluationSaysSo() throws Exception {
        String prefix = Fixtures.trainedCheckpoint(
                store, "unreferenced-" + UUID.randomUUID().toString().substring(0, 8), 1);

        JsonPath report = EvaluationApiTest.adHoc(prefix, NO_REFERENCES, Map.of());

        assertThat(report.getString("status")).isEqualTo("error");
        assertThat(report.getString("error"))
                .contains("test.jsonl of " + NO_REFERENCES + "@1 holds prompts without a reference answer");
    }
}
