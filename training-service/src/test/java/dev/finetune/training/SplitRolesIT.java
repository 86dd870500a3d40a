package dev.finetune.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import io.restassured.path.json.JsonPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Kubernetes split with real processes: a role-api process (the training API Deployment) and
 * one-job workers (the pods of the Jobs a KEDA ScaledJob starts). The api never joins the workers'
 * consumer group; a one-job worker runs exactly one request, commits it and exits 0; the request it
 * did not take stays uncommitted for the next pod; a worker preempted mid-job (SIGTERM, as on a node
 * drain) hands its job over, and the api's lease reaper requests it again for the next pod, which
 * resumes it from the preemption's checkpoint; a worker that gets no request exits 0 too.
 */
@ExtendWith(LocalStackExtension.class)
class SplitRolesIT {
    private static final String GROUP = "training-workers";
    private static final Map<String, Object> SHORT_JOB =
            Map.of("max_steps", 6, "per_device_train_batch_size", 2, "max_seq_length", 32);
    /** Enough steps for the test to preempt the job in their midst. */
    private static final int LONG_STEPS = 1000;

    @AutoClose
    private WorkerProcesses processes;

    @Test
    void theApiRoleNeverConsumesRequestsAndEachOneJobWorkerRunsOneAndExitsZero(LocalStack stack) throws Exception {
        processes = new WorkerProcesses(stack);
        processes.storeWith("split-base", "split-qa");
        // The reaper looks every second: the preempted job is requested again at once.
        WorkerProcesses.Worker api = processes.start(
                "split-api", Map.of("PIPELINE_TRAINING_ROLE", "api", "PIPELINE_TRAINING_REAPER_INTERVAL", "1s"));
        String first = api.createJob("split-base", "split-qa", SHORT_JOB);
        String second = api.createJob("split-base", "split-qa", SHORT_JOB);
        try (Admin admin = admin(stack)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> lag(admin) == 2);
            Thread.sleep(8000); // time enough for a consumer to join, poll and start a job
            assertThat(members(admin))
                    .as("members of %s while only the api runs", GROUP)
                    .isEmpty();
            assertThat(Stream.of(first, second).map(id -> api.job(id).getString("state")))
                    .as("both jobs wait for a worker")
                    .containsOnly("queued");

            WorkerProcesses.Worker one = processes.start("split-worker-1", oneJob("2m"));
            assertThat(one.process().waitFor(3, TimeUnit.MINUTES))
                    .as("split-worker-1 exits after its job")
                    .isTrue();
            assertThat(one.process().exitValue())
                    .as("exit code, for its Kubernetes Job to complete")
                    .isZero();
            List<String> states = Stream.of(first, second)
                    .map(id -> api.job(id).getString("state"))
                    .toList();
            assertThat(states).as("one job trained, one left").containsExactlyInAnyOrder("succeeded", "queued");
            String trained = states.get(0).equals("succeeded") ? first : second;
            String left = trained.equals(first) ? second : first;
            assertThat(api.job(trained).getString("worker")).isEqualTo("split-worker-1");
            assertThat(lag(admin))
                    .as("the trained job's record is committed, the other is not")
                    .isEqualTo(1);

            WorkerProcesses.Worker two = processes.start("split-worker-2", oneJob("2m"));
            assertThat(two.process().waitFor(3, TimeUnit.MINUTES)).isTrue();
            assertThat(two.process().exitValue()).isZero();
            assertThat(api.job(left).getString("state")).isEqualTo("succeeded");
            assertThat(api.job(left).getString("worker")).isEqualTo("split-worker-2");
            assertThat(lag(admin)).isZero();

            preemptedJobIsRequestedAgainAndResumedByTheNextPod(api, admin);

            WorkerProcesses.Worker idle = processes.start("split-worker-idle", oneJob("15s"));
            assertThat(idle.process().waitFor(2, TimeUnit.MINUTES))
                    .as("a worker with no request exits after its idle timeout")
                    .isTrue();
            assertThat(idle.process().exitValue()).isZero();
        }
        assertThat(Files.readString(Path.of("target/worker-logs/split-api.log")))
                .as("the api process never loaded the engine nor trained")
                .doesNotContain("worker warm-up took")
                .doesNotContain(" trains on ");
    }

    /**
     * The path a job takes on Kubernetes when its pod is drained: the pod checkpoints the last step it
     * finished, hands the lease over, commits the record and exits; the api's reaper takes the lease,
     * reserves it and requests the job again; KEDA starts a pod for that record (here: the test), and
     * it resumes from the checkpoint. One terminal state, one result, no record left behind.
     */
    private void preemptedJobIsRequestedAgainAndResumedByTheNextPod(WorkerProcesses.Worker api, Admin admin)
            throws Exception {
        String id = api.createJob(
                "split-base",
                "split-qa",
                Map.of(
                        "max_steps",
                        LONG_STEPS,
                        "save_steps",
                        5000,
                        "per_device_train_batch_size",
                        2,
                        "max_seq_length",
                        32));
        // Progress every second: the test sees the job running before it sends the signal.
        Map<String, String> reporting = new HashMap<>(oneJob("2m"));
        reporting.put("PIPELINE_TRAINING_REPORT_INTERVAL", "1s");
        WorkerProcesses.Worker drained = processes.start("split-worker-drained", reporting);
        await().atMost(Duration.ofMinutes(2)).until(() -> api.job(id).getLong("step") >= 8);
        drained.process().destroy(); // SIGTERM, as the kubelet sends on a drain
        assertThat(drained.process().waitFor(100, TimeUnit.SECONDS))
                .as("the drained worker exits within its grace period")
                .isTrue();
        String preempted =
                api.events(id).getString("find { it.kind == 'state' && it.message.startsWith('preempted') }.message");
        assertThat(preempted).as("the job's preemption event").isNotNull();
        long step = Long.parseLong(preempted.replaceAll("preempted at step (\\d+):.*", "$1"));
        assertThat(step).isBetween(8L, LONG_STEPS - 1L);

        // The api (no worker runs now) takes the handed-over lease and requests the job again.
        await().atMost(Duration.ofSeconds(30)).until(() -> lag(admin) == 1);
        WorkerProcesses.Worker next = processes.start("split-worker-next", oneJob("2m"));
        assertThat(next.process().waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(next.process().exitValue()).isZero();

        JsonPath done = api.job(id);
        assertThat(done.getString("state")).as(done.getString("failureReason")).isEqualTo("succeeded");
        assertThat(done.getLong("step")).isEqualTo(LONG_STEPS);
        assertThat(done.getString("worker")).isEqualTo("split-worker-next");
        assertThat(Files.readString(Path.of("target/worker-logs/split-worker-next.log")))
                .as("resumed from the preemption's checkpoint, losing no finished step")
                .contains("job " + id + " resumes from step " + step);
        JsonPath events = api.events(id);
        assertThat(events.getList(
                        "findAll { it.kind == 'state' && it.message.contains(' on worker ') }.message", String.class))
                .as("one run on each worker")
                .containsExactly("started on worker split-worker-drained", "resumed on worker split-worker-next");
        assertThat(events.getList("findAll { it.kind == 'metrics' }.metrics.step", Integer.class))
                .as("steps reported by both runs: none twice, none back")
                .isSorted()
                .doesNotHaveDuplicates()
                .endsWith(LONG_STEPS);
        assertThat(events.getList("findAll { it.kind == 'state' }.state", String.class))
                .as("one terminal state")
                .containsOnlyOnce("succeeded")
                .doesNotContain("failed", "cancelled");
        assertThat(events.getList("findAll { it.kind == 'checkpoint' }.message", String.class))
                .as("the preemption's checkpoint and one result")
                .containsExactly(
                        "checkpoint at checkpoints/" + id + "/step-" + step + "/",
                        "final result at checkpoints/" + id + "/step-" + LONG_STEPS + "/");
        assertThat(lag(admin))
                .as("the drained pod's record and the reaper's request both committed")
                .isZero();
    }

    private static Map<String, String> oneJob(String idleTimeout) {
        return Map.of(
                "PIPELINE_TRAINING_ROLE", "worker",
                "PIPELINE_TRAINING_WORKER_ONE_JOB", "true",
                "PIPELINE_TRAINING_WORKER_IDLE_TIMEOUT", idleTimeout);
    }

    /** The members of the workers' group; none if the group was never joined (the broker knows no such group). */
    private static List<String> members(Admin admin) throws Exception {
        try {
            return admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP).members().stream()
                    .map(m -> m.clientId() + "@" + m.host())
                    .toList();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return List.of();
            }
            throw e;
        }
    }

    private static Admin admin(LocalStack stack) {
        Properties properties = new Properties();
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        return Admin.create(properties);
    }

    /** Records on {@code training.jobs} that the workers' group has not committed. */
    private static long lag(Admin admin) throws Exception {
        List<TopicPartition> partitions = admin
                .describeTopics(List.of("training.jobs"))
                .allTopicNames()
                .get()
                .get("training.jobs")
                .partitions()
                .stream()
                .map(p -> new TopicPartition("training.jobs", p.partition()))
                .toList();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata()
                .get();
        long lag = 0;
        for (TopicPartition partition : partitions) {
            long end = admin.listOffsets(Map.of(partition, OffsetSpec.latest()))
                    .partitionResult(partition)
                    .get()
                    .offset();
            OffsetAndMetadata done = committed.get(partition);
            lag += end - (done == null ? 0 : done.offset());
        }
        return lag;
    }
}
