package dev.finetune.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.events.JobState;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.Scrape;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What an operator's Prometheus sees of a job that trains: scraped from /q/metrics before and after. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class TrainingMetricsTest {
    private static final Map<String, String> LORA_SFT = Map.of("method", "lora", "objective", "sft");

    @Inject
    ObjectStore store;

    @Inject
    JobStore jobs;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.baseModel(store, "tiny-qwen3");
        Fixtures.sftDataset(store, "qa");
    }

    @Test
    void aJobThatRanIsCountedStepByStepAndItsGaugesGoWhenItEnds() {
        Scrape before = Scrape.now();

        String id = JobLifecycleTest.create(Fixtures.loraSftJob(
                "tiny-qwen3",
                "qa",
                Map.of("max_steps", 12, "save_steps", 6, "per_device_train_batch_size", 4, "max_seq_length", 48)));
        // While it trains, its gauges are there, labelled with its id.
        AtomicReference<Scrape> during = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    during.set(Scrape.now());
                    return during.get().value("finetune_training_step", Map.of("job_id", id)) >= 1;
                });
        Map<String, String> job = Map.of("job_id", id);
        assertThat(during.get().value("finetune_training_total_steps", job)).isEqualTo(12);
        assertThat(during.get().value("finetune_training_loss", job)).isPositive();
        assertThat(during.get().value("finetune_training_learning_rate", job)).isPositive();
        assertThat(during.get().value("finetune_training_grad_norm", job)).isPositive();
        assertThat(during.get().value("finetune_training_tokens_per_second", job))
                .isPositive();
        JobLifecycleTest.awaitState(id, "succeeded");

        // The worker drops the job's series when its run returns, just after the final state is
        // written (a fresh-clone run scraped in between once): they go within moments, not never.
        Scrape after = await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(50))
                .until(Scrape::now, scrape -> scrape.withLabels(job).isEmpty());
        assertThat(after.withLabels(job))
                .as("no series of the ended job is left")
                .isEmpty();
        assertThat(after.text()).doesNotContain(id);
        // One observation per optimizer step, in a histogram with buckets.
        assertThat(delta(before, after, "finetune_training_step_duration_seconds_count", LORA_SFT))
                .isEqualTo(12);
        assertThat(delta(before, after, "finetune_training_step_duration_seconds_sum", LORA_SFT))
                .isPositive();
        assertThat(after.has("finetune_training_step_duration_seconds_bucket", LORA_SFT))
                .isTrue();
        // validating -> queued -> running -> succeeded, each entered once.
        for (String state : new String[] {"validating", "queued", "running", "succeeded"}) {
            assertThat(delta(before, after, "finetune_job_state_transitions_total", Map.of("state", state)))
                    .as(state)
                    .isEqualTo(1);
        }
        assertThat(delta(before, after, "finetune_job_state_transitions_total", Map.of("state", "failed")))
                .isZero();
        // Checkpoints at steps 6 and 12, then the final result.
        assertThat(delta(before, after, "finetune_checkpoint_upload_duration_seconds_count", Map.of()))
                .isEqualTo(3);
        assertThat(delta(before, after, "finetune_checkpoint_upload_bytes_total", Map.of()))
                .isGreaterThanOrEqualTo(storedBytes("checkpoints/" + id + "/"));
    }

    @Test
    void jobsThatHaveNotEndedAreCountedByStateAsTheJobStoreHasThem() {
        String id = JobLifecycleTest.create(Fixtures.loraSftJob(
                "tiny-qwen3",
                "qa",
                Map.of("max_steps", 2, "save_steps", 2, "per_device_train_batch_size", 4, "max_seq_length", 48)));
        JobLifecycleTest.awaitState(id, "succeeded");

        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    Scrape scrape = Scrape.now();
                    Map<JobState, Long> stored = jobs.list().stream()
                            .collect(java.util.stream.Collectors.groupingBy(
                                    JobRecord::state, java.util.stream.Collectors.counting()));
                    for (JobState state : JobState.values()) {
                        if (state.isTerminal()) {
                            // Ended jobs only ever grow in number: they are counted as transitions.
                            assertThat(scrape.has("finetune_jobs", Map.of("state", state.code())))
                                    .as(state.code())
                                    .isFalse();
                        } else {
                            assertThat(scrape.value("finetune_jobs", Map.of("state", state.code())))
                                    .as(state.code())
                                    .isEqualTo(stored.getOrDefault(state, 0L).doubleValue());
                        }
                    }
                    assertThat(stored.get(JobState.SUCCEEDED)).isPositive();
                });
    }

    private long storedBytes(String prefix) {
        return store.list(prefix).stream().mapToLong(o -> o.size()).sum();
    }

    private static double delta(Scrape before, Scrape after, String name, Map<String, String> labels) {
        return after.value(name, labels) - before.value(name, labels);
    }
}
