package dev.finetune.training.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.events.EventJson;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import dev.finetune.training.metrics.JobTransitions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The job's event log against the real S3 server. */
@ExtendWith(LocalStackExtension.class)
class JobStoreTest {

    @Test
    void eventLogSkipsObjectsThatAreNotEventsUnderItsPrefix(LocalStack stack) throws Exception {
        try (ObjectStore store = new ObjectStore(
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), "job-store-test"))) {
            store.ensureBucket();
            JobStore jobs = new JobStore(store, EventJson.mapper(), new JobTransitions(new SimpleMeterRegistry()));
            store.putBytes(
                    JobStore.eventKey("j-1", 1), "{\"n\":1}".getBytes(StandardCharsets.UTF_8), "application/json");
            store.putBytes(
                    JobStore.eventKey("j-1", 2), "{\"n\":2}".getBytes(StandardCharsets.UTF_8), "application/json");
            // What s3proxy's filesystem store lists while a PUT of event 3 is in flight, and a stray file.
            store.putBytes(
                    "training/jobs/j-1/events/000000000003.json-50b2aaf0-3969-4987-9c5e-c14b43b",
                    "{".getBytes(StandardCharsets.UTF_8),
                    "application/octet-stream");
            store.putBytes("training/jobs/j-1/events/README", new byte[0], "text/plain");

            List<JsonNode> all = jobs.events("j-1", 0, 100, JsonNode.class);
            List<JsonNode> afterFirst = jobs.events("j-1", 1, 100, JsonNode.class);

            assertThat(all).extracting(n -> n.path("n").asInt()).containsExactly(1, 2);
            assertThat(afterFirst).extracting(n -> n.path("n").asInt()).containsExactly(2);
            assertThat(jobs.events("j-1", 0, 1, Map.class)).hasSize(1);
        }
    }
}
