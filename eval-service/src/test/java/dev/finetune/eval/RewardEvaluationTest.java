package dev.finetune.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.inference.RewardModel;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A reward model's checkpoint (issue 17 item 6: "eval-service reports the reward model's pairwise
 * accuracy on held-out pairs") is scored on the held-out preference pairs with its score head, checked
 * against the same scores taken here one answer at a time; the base model beside it ranks the pairs
 * by its own log-likelihood.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class RewardEvaluationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    ObjectStore store;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.prepare(store);
    }

    @Test
    void aRewardCheckpointIsScoredOnTheHeldOutPairsWithItsScoreHead() throws Exception {
        String prefix = Fixtures.rewardCheckpoint(
                store, "reward-" + UUID.randomUUID().toString().substring(0, 8), 1);

        JsonPath report =
                EvaluationApiTest.adHoc(prefix, Fixtures.PAIRS_DATASET, Map.of("minPreferenceAccuracy", 0.75));

        assertThat(report.getString("status")).as(report.getString("error")).isEqualTo("passed");
        double[][] scores = independentScores();
        int pairs = scores[0].length;
        double wins = 0;
        double margin = 0;
        double loss = 0;
        for (int i = 0; i < pairs; i++) {
            double m = scores[0][i] - scores[1][i];
            wins += m > 0 ? 1 : 0;
            margin += m;
            loss += -Math.log(1 / (1 + Math.exp(-m)));
        }
        System.out.printf(
                "reward checkpoint: %s (independent accuracy %.4f); base %s%n",
                report.getMap("metrics"), wins / pairs, report.getMap("baseMetrics"));
        assertThat(report.getMap("metrics").keySet())
                .containsExactlyInAnyOrder("preference_accuracy", "reward_margin", "reward_loss");
        assertThat(report.getDouble("metrics.preference_accuracy")).isCloseTo(wins / pairs, within(1e-9));
        assertThat(report.getDouble("metrics.reward_margin")).isCloseTo(margin / pairs, within(1e-4));
        assertThat(report.getDouble("metrics.reward_loss")).isCloseTo(loss / pairs, within(1e-4));
        assertThat(wins / pairs)
                .as("the trained reward model ranks the held-out pairs")
                .isGreaterThanOrEqualTo(0.75);
        // The base language model ranks the same pairs by log-likelihood; it has no score to lose on.
        assertThat(report.getDouble("baseMetrics.preference_accuracy")).isBetween(0.0, 1.0);
        assertThat(report.getMap("baseMetrics")).doesNotContainKey("reward_loss");
        assertThat(report.getDouble("improvement.preference_accuracy"))
                .isCloseTo(
                        report.getDouble("metrics.preference_accuracy")
                                - report.getDouble("baseMetrics.preference_accuracy"),
                        within(1e-9));
        assertThat(report.getList("generations")).isEmpty();
        assertThat(report.getList("gates.passed")).containsExactly(true);
    }

    /** The adapter's scores of each validation pair's chosen and rejected conversation, one at a time. */
    private double[][] independentScores() throws Exception {
        String validation = new String(
                store.getBytes(ObjectKeys.preparedDataset(Fixtures.PAIRS_DATASET, "1", "validation.jsonl")),
                StandardCharsets.UTF_8);
        List<String> lines = validation.lines().filter(l -> !l.isBlank()).toList();
        double[][] scores = new double[2][lines.size()];
        try (RewardModel model = RewardModel.load(Fixtures.baseDir(), Fixtures.rewardAdapter());
                Tokenizer tokenizer = Tokenizer.load(Fixtures.baseDir())) {
            for (int i = 0; i < lines.size(); i++) {
                JsonNode pair = JSON.readTree(lines.get(i));
                ChatMessage question = ChatMessage.user(
                        pair.path("prompt").path(0).path("content").asText());
                for (int side = 0; side < 2; side++) {
                    String answer = pair.path(side == 0 ? "chosen" : "rejected")
                            .path(0)
                            .path("content")
                            .asText();
                    int[] ids = tokenizer.encodeChat(List.of(question, ChatMessage.assistant(answer)), false, Map.of());
                    scores[side][i] = model.scores(
                                    List.of(Arrays.stream(ids).asLongStream().toArray()), 1)[0];
                }
            }
        }
        return scores;
    }
}
