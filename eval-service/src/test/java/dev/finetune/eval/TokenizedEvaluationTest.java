package dev.finetune.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.llm.train.ChatDatasets;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A pre-tokenized dataset (issue 18 item 5) is evaluated as the conversations it was made from: the
 * same eval_loss, perplexity and token accuracy, and generation on its test split with the trained
 * span decoded by the base model's tokenizer as the reference.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class TokenizedEvaluationTest {
    static final String TOKENIZED = "doubling-tokenized";

    @Inject
    ObjectStore store;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.prepare(store);
        String prefix = ObjectKeys.preparedDatasetPrefix(TOKENIZED, "1");
        Fixtures.put(store, prefix + "validation.jsonl", tokenized(Fixtures.conversations(32, 40)));
        Fixtures.put(store, prefix + "test.jsonl", tokenized(Fixtures.conversations(40, 44)));
        Fixtures.put(store, prefix + "manifest.json", "{\"status\":\"prepared\",\"kind\":\"tokenized\"}");
    }

    @Test
    void aTokenizedDatasetScoresAsTheConversationsItWasMadeFrom() throws Exception {
        String prefix = Fixtures.trainedCheckpoint(
                store, "tok-" + UUID.randomUUID().toString().substring(0, 8), 1);

        JsonPath tokenized = EvaluationApiTest.adHoc(prefix, TOKENIZED, Map.of());
        JsonPath text = EvaluationApiTest.adHoc(prefix, Fixtures.DATASET, Map.of());

        assertThat(tokenized.getString("status"))
                .as(tokenized.getString("error"))
                .isIn("passed", "gates_failed");
        System.out.printf(
                "tokenized: eval_loss %.6f (conversations %.6f), exact_match %s%n",
                tokenized.getDouble("metrics.eval_loss"),
                text.getDouble("metrics.eval_loss"),
                tokenized.getDouble("metrics.exact_match"));
        for (String metric : new String[] {"eval_loss", "perplexity", "mean_token_accuracy"}) {
            assertThat(tokenized.getDouble("metrics." + metric))
                    .as(metric)
                    .isCloseTo(text.getDouble("metrics." + metric), within(1e-9));
        }
        assertThat(tokenized.getList("generations.reference"))
                .hasSize(4)
                .isEqualTo(text.getList("generations.reference"));
        assertThat(tokenized.getDouble("metrics.exact_match")).isEqualTo(text.getDouble("metrics.exact_match"));
    }

    /** Conversation lines as rows of the base model's ids with completion_mask, as a user would make them. */
    private static String tokenized(String conversations) throws Exception {
        Path file = Files.createTempFile("conversations-", ".jsonl");
        Files.writeString(file, conversations);
        try (Tokenizer tokenizer = Tokenizer.load(Fixtures.baseDir())) {
            ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
            StringBuilder lines = new StringBuilder();
            for (var conversation : ChatDatasets.conversations(file)) {
                TrainingSequence s =
                        encoder.sft(conversation, true, Integer.MAX_VALUE).orElseThrow();
                String mask = Arrays.toString(mask(s.targets()));
                lines.append("{\"input_ids\":")
                        .append(Arrays.stream(s.ids())
                                .mapToObj(Long::toString)
                                .collect(Collectors.joining(",", "[", "]")))
                        .append(",\"completion_mask\":")
                        .append(mask.replace(" ", ""))
                        .append("}\n");
            }
            return lines.toString();
        } finally {
            Files.delete(file);
        }
    }

    private static int[] mask(boolean[] targets) {
        int[] mask = new int[targets.length];
        for (int t = 0; t < targets.length; t++) {
            mask[t] = targets[t] ? 1 : 0;
        }
        return mask;
    }
}
