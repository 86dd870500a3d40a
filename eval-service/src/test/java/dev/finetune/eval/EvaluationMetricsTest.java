package dev.finetune.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.Scrape;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What an operator's Prometheus sees of evaluations: scraped from /q/metrics before and after. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class EvaluationMetricsTest {
    private static final String OUTCOMES = "finetune_evaluation_gate_outcomes_total";
    private static final Duration WAIT = Duration.ofSeconds(90);

    @Inject
    ObjectStore store;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.prepare(store);
    }

    @Test
    void eachEvaluationIsTimedAndCountedByOutcomeOnceEvenWhenRepublished() throws Exception {
        String job = "metrics-" + UUID.randomUUID().toString().substring(0, 8);
        String prefix = Fixtures.trainedCheckpoint(store, job, 40);
        Scrape before = Scrape.now();

        evaluate(prefix, Map.of("minRougeL", 0.0)); // passes
        evaluate(prefix, Map.of("maxEvalLossRatio", 0.0)); // no loss is <= 0: fails
        String missing = "checkpoints/" + job + "/step-41/";
        Broker.publish(Broker.checkpoint(job, 41, missing), "checkpoint:" + missing, null);
        Broker.evaluations(job + "-step-41", 1, WAIT); // nothing to load: errored
        Broker.publish(Broker.checkpoint(job, 41, missing), "checkpoint:" + missing + ":again", null);
        Broker.evaluations(job + "-step-41", 2, WAIT); // the stored result, published again

        // Counted when the report is stored, a moment before the API or the topic shows it.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Scrape after = Scrape.now();
            assertThat(delta(before, after, OUTCOMES, Map.of("outcome", "passed")))
                    .isEqualTo(1);
            assertThat(delta(before, after, OUTCOMES, Map.of("outcome", "failed")))
                    .isEqualTo(1);
            assertThat(delta(before, after, OUTCOMES, Map.of("outcome", "errored")))
                    .isEqualTo(1);
            assertThat(delta(before, after, "finetune_evaluation_duration_seconds_count", Map.of()))
                    .isEqualTo(3);
            assertThat(delta(before, after, "finetune_evaluation_duration_seconds_sum", Map.of()))
                    .isPositive();
            assertThat(after.has("finetune_evaluation_duration_seconds_bucket", Map.of()))
                    .isTrue();
        });
    }

    private static void evaluate(String prefix, Map<String, Object> gates) {
        EvaluationApiTest.adHoc(prefix, gates);
    }

    private static double delta(Scrape before, Scrape after, String name, Map<String, String> labels) {
        return after.value(name, labels) - before.value(name, labels);
    }
}
