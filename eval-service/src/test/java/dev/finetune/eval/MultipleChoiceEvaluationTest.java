package dev.finetune.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.inference.Scorer;
import dev.finetune.llm.model.CausalLm;
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
 * Task accuracy on a multiple-choice dataset (issue 19 item 2), computed as lm-evaluation-harness
 * computes acc and acc_norm, checked against the same computation done here with llm's Scorer, one
 * sequence at a time, on the base model (a fresh adapter is the base exactly).
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class MultipleChoiceEvaluationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    ObjectStore store;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.prepare(store);
        Fixtures.multipleChoiceDataset(store);
    }

    @Test
    void accuracyIsTheShareOfQuestionsWhoseRightChoiceIsTheMostLikely() throws Exception {
        String prefix = Fixtures.freshCheckpoint(
                store, "mc-" + UUID.randomUUID().toString().substring(0, 8), 1);
        JsonPath report = EvaluationApiTest.adHoc(prefix, Fixtures.MULTIPLE_CHOICE, Map.of());

        assertThat(report.getString("status")).as(report.getString("error")).isIn("passed", "gates_failed");
        double[] expected = independentAccuracy();
        System.out.printf(
                "multiple choice: mc_accuracy %.4f (independent %.4f), mc_accuracy_norm %.4f (independent %.4f),"
                        + " prompted base %s%n",
                report.getDouble("metrics.mc_accuracy"),
                expected[0],
                report.getDouble("metrics.mc_accuracy_norm"),
                expected[1],
                report.getMap("promptBaselineMetrics"));
        assertThat(report.getDouble("metrics.mc_accuracy")).isCloseTo(expected[0], within(1e-9));
        assertThat(report.getDouble("metrics.mc_accuracy_norm")).isCloseTo(expected[1], within(1e-9));
        assertThat(report.getDouble("baseMetrics.mc_accuracy")).isCloseTo(expected[0], within(1e-9));
        // The questions' right answers are conversations too: loss and generation metrics as for chat data.
        assertThat(report.getDouble("metrics.eval_loss")).isPositive();
        assertThat(report.getList("generations")).hasSize(4);
        assertThat(report.getDouble("promptBaselineMetrics.mc_accuracy")).isBetween(0.0, 1.0);
    }

    /** acc and acc_norm of the base model on the 8 validation questions, scored one choice at a time. */
    private double[] independentAccuracy() throws Exception {
        String validation = new String(
                store.getBytes(ObjectKeys.preparedDataset(Fixtures.MULTIPLE_CHOICE, "1", "validation.jsonl")),
                StandardCharsets.UTF_8);
        int right = 0;
        int rightNormalized = 0;
        int questions = 0;
        try (CausalLm base = CausalLm.load(Fixtures.baseDir(), Device.cpu());
                Tokenizer tokenizer = Tokenizer.load(Fixtures.baseDir())) {
            for (String line : validation.split("\n")) {
                JsonNode q = JSON.readTree(line);
                List<ChatMessage> question = List.of(ChatMessage.user(
                        q.path("messages").path(0).path("content").asText()));
                long[] prompt = ids(tokenizer.encodeChat(question, true, Map.of()));
                double best = Double.NEGATIVE_INFINITY;
                double bestNormalized = Double.NEGATIVE_INFINITY;
                int chosen = -1;
                int chosenNormalized = -1;
                for (int c = 0; c < q.path("choices").size(); c++) {
                    String text = q.path("choices").path(c).asText();
                    long[] whole = ids(tokenizer.encodeChat(
                            List.of(question.get(0), ChatMessage.assistant(text)), false, Map.of()));
                    double logLikelihood = Scorer.completionLogProb(
                            base, prompt, Arrays.copyOfRange(whole, prompt.length, whole.length));
                    if (logLikelihood > best) {
                        best = logLikelihood;
                        chosen = c;
                    }
                    if (logLikelihood / text.length() > bestNormalized) {
                        bestNormalized = logLikelihood / text.length();
                        chosenNormalized = c;
                    }
                }
                int answer = q.path("answer").asInt();
                right += chosen == answer ? 1 : 0;
                rightNormalized += chosenNormalized == answer ? 1 : 0;
                questions++;
            }
        }
        return new double[] {(double) right / questions, (double) rightNormalized / questions};
    }

    private static long[] ids(int[] tokens) {
        return Arrays.stream(tokens).asLongStream().toArray();
    }
}
