package dev.finetune.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.storage.ObjectStore;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two real worker processes (the packaged service) against the real broker and S3: the first is
 * killed with SIGKILL mid-job; the second takes the job over from its last stored checkpoint and
 * finishes it with the same total number of steps.
 */
@ExtendWith(LocalStackExtension.class)
class WorkerCrashIT {
    @AutoClose
    private WorkerProcesses workers;

    @Test
    void jobOfAWorkerKilledMidJobResumesOnAnotherFromItsLastCheckpoint(LocalStack stack) throws Exception {
        workers = new WorkerProcesses(stack);
        ObjectStore store = workers.storeWith("crash-base", "crash-qa");
        WorkerProcesses.Worker a = workers.start("worker-a", Map.of());
        String id = a.createJob(
                "crash-base",
                "crash-qa",
                Map.of("max_steps", 40, "save_steps", 5, "per_device_train_batch_size", 2, "max_seq_length", 32));
        await().atMost(Duration.ofMinutes(3)).until(() -> a.job(id).getLong("lastCheckpointStep") >= 10);

        a.process().destroyForcibly().waitFor(); // kill -9: no shutdown hook, no lease release, no commit
        WorkerProcesses.Worker b = workers.start("worker-b", Map.of());
        long checkpointAtKill = b.job(id).getLong("lastCheckpointStep");

        JsonPath done = await().atMost(Duration.ofMinutes(4))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> b.job(id), j -> "succeeded".equals(j.getString("state")));
        assertThat(done.getLong("step")).isEqualTo(40);
        assertThat(done.getLong("totalSteps")).isEqualTo(40);
        assertThat(done.getString("worker")).isEqualTo("worker-b");
        JsonPath log = b.events(id);
        long resumedAt = log.getLong(
                "find { it.kind == 'state' && it.message.endsWith('resumed on worker worker-b') }.sequence");
        List<Integer> stepsOnB = log.getList(
                "findAll { it.kind == 'metrics' && it.sequence > " + resumedAt + " }.metrics.step", Integer.class);
        // B continued from the newest stored checkpoint (at least the one seen before the kill):
        // at most one checkpoint interval (5 steps) of A's work is redone, and no checkpoint is
        // skipped. (Progress is throttled, so not every step has a metrics event.)
        assertThat(stepsOnB.get(0)).isGreaterThan((int) checkpointAtKill);
        assertThat(stepsOnB).isSorted().doesNotHaveDuplicates().endsWith(40);
        for (int step = 5; step <= 40; step += 5) {
            assertThat(store.exists("checkpoints/" + id + "/step-" + step + "/trainer_state.json"))
                    .as("checkpoint %d", step)
                    .isTrue();
        }
        assertThat(store.exists("checkpoints/" + id + "/step-40/adapter_model.safetensors"))
                .isTrue();
    }
}
