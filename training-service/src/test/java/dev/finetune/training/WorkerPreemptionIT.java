package dev.finetune.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectStore;
import io.restassured.path.json.JsonPath;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The local equivalent of a node drain: a real worker process gets SIGTERM mid-job. It checkpoints
 * the last optimizer step it finished (the job saves no checkpoint of its own before the end),
 * hands its lease over and exits; a second worker resumes the job from exactly that step, although
 * its lease reaper may resume a stranded job no time at all ({@code max-resumes} 0): a preemption is
 * not a crash.
 */
@ExtendWith(LocalStackExtension.class)
class WorkerPreemptionIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @AutoClose
    private WorkerProcesses workers;

    @Test
    void aWorkerStoppedBySigtermCheckpointsItsLastStepAndAnotherResumesFromIt(LocalStack stack) throws Exception {
        workers = new WorkerProcesses(stack);
        ObjectStore store = workers.storeWith("preempt-base", "preempt-qa");
        // Progress every second: the test sees the job running before it sends the signal.
        WorkerProcesses.Worker a = workers.start("worker-a", Map.of("PIPELINE_TRAINING_REPORT_INTERVAL", "1s"));
        String id = a.createJob(
                "preempt-base",
                "preempt-qa",
                Map.of("max_steps", 1500, "save_steps", 5000, "per_device_train_batch_size", 2, "max_seq_length", 32));
        await().atMost(Duration.ofMinutes(3)).until(() -> a.job(id).getLong("step") >= 8);

        a.process().destroy(); // SIGTERM, as the kubelet sends on a drain
        assertThat(a.process().waitFor(100, TimeUnit.SECONDS))
                .as("worker-a exits within the grace period")
                .isTrue();

        JsonPath log = events(store, id);
        String preempted = log.getString("find { it.kind == 'state' && it.message.startsWith('preempted') }.message");
        assertThat(preempted).as("the job's preemption event").isNotNull().contains("worker worker-a is shutting down");
        long step = Long.parseLong(preempted.replaceAll("preempted at step (\\d+):.*", "$1"));
        assertThat(step).isBetween(8L, 1499L);
        assertThat(store.exists("checkpoints/" + id + "/step-" + step + "/trainer_state.json"))
                .as("the checkpoint of the last whole step, step %d", step)
                .isTrue();
        assertThat(checkpointSteps(store, id))
                .as("no checkpoint but the preemption's")
                .containsExactly(step);
        JsonNode lease = newestLease(store, id);
        assertThat(lease.path("handedOver").asBoolean()).as("lease %s", lease).isTrue();

        WorkerProcesses.Worker b = workers.start(
                "worker-b",
                Map.of(
                        "PIPELINE_TRAINING_REAPER_INTERVAL", "1s",
                        "PIPELINE_TRAINING_REAPER_MAX_RESUMES", "0",
                        // The reaper resumes the job while the warm-up trains: the two must never overlap.
                        "PIPELINE_TRAINING_WARMUP_TRAINING", "true"));
        JsonPath done = await().atMost(Duration.ofMinutes(4))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> b.job(id), j -> "succeeded".equals(j.getString("state")));
        assertThat(done.getLong("step")).isEqualTo(1500);
        assertThat(done.getString("worker")).isEqualTo("worker-b");
        assertThat(Files.readString(Path.of("target/worker-logs/worker-b.log")))
                .as("worker-b resumed from the preemption's checkpoint, losing no finished step")
                .contains("job " + id + " resumes from step " + step);
    }

    private static JsonPath events(ObjectStore store, String id) throws Exception {
        return JsonPath.from(JSON.writeValueAsString(store.list("training/jobs/" + id + "/events/").stream()
                .map(o -> read(store, o.key()))
                .toList()));
    }

    private static List<Long> checkpointSteps(ObjectStore store, String id) {
        return store.list("checkpoints/" + id + "/").stream()
                .map(ObjectInfo::key)
                .filter(k -> k.endsWith("/trainer_state.json"))
                .map(k -> Long.parseLong(k.replaceAll(".*/step-(\\d+)/.*", "$1")))
                .distinct()
                .toList();
    }

    private static JsonNode newestLease(ObjectStore store, String id) {
        String key = store.list("training/jobs/" + id + "/lease/").stream()
                .map(ObjectInfo::key)
                .filter(k -> k.endsWith(".json"))
                .max(Comparator.naturalOrder())
                .orElseThrow();
        return read(store, key);
    }

    private static JsonNode read(ObjectStore store, String key) {
        try (InputStream in = store.get(key)) {
            return JSON.readTree(in);
        } catch (Exception e) {
            throw new IllegalStateException(key, e);
        }
    }
}
