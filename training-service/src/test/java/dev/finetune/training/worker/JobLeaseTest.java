package dev.finetune.training.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The lease against the real S3 server (s3proxy, whose If-Match is not atomic; If-None-Match is). */
@ExtendWith(LocalStackExtension.class)
class JobLeaseTest {
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule());
    private static final Duration SHORT = Duration.ofMillis(300);

    private ObjectStore store;
    private ExecutorService threads;

    @BeforeEach
    void store(LocalStack stack) {
        store = new ObjectStore(
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), "finetune"));
        store.ensureBucket();
        threads = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void stop() throws Exception {
        threads.shutdownNow();
        store.close();
    }

    @Test
    void ofTwoReapersRacingForOneExpiredLeaseExactlyOneWinsEveryTime() throws Exception {
        for (int round = 0; round < 15; round++) {
            String job = "race-" + UUID.randomUUID().toString().substring(0, 8);
            JobLease dead = lease(job, "dead-worker", SHORT);
            assertThat(dead.acquire()).isTrue();
            Thread.sleep(SHORT.toMillis() + 50);

            CyclicBarrier start = new CyclicBarrier(2);
            List<Future<Boolean>> takes = threads.invokeAll(List.<Callable<Boolean>>of(
                    () -> {
                        start.await();
                        return lease(job, "reaper-a", Duration.ofMinutes(1)).takeOverExpired();
                    },
                    () -> {
                        start.await();
                        return lease(job, "reaper-b", Duration.ofMinutes(1)).takeOverExpired();
                    }));

            long winners = 0;
            for (Future<Boolean> take : takes) {
                winners += take.get() ? 1 : 0;
            }
            assertThat(winners)
                    .as("round %d: reapers that took the lease", round)
                    .isEqualTo(1);
            JobLease.Generation current =
                    lease(job, "observer", SHORT).current().orElseThrow();
            assertThat(current.number()).isEqualTo(2);
            assertThat(current.holder().worker()).isIn("reaper-a", "reaper-b");
            assertThat(current.holder().reaped()).isTrue();
        }
    }

    @Test
    void aLiveLeaseIsNotTakenOverAndAFreeOneIsNotReaped() {
        String job = "live-" + UUID.randomUUID().toString().substring(0, 8);
        JobLease reaper = lease(job, "reaper", Duration.ofMinutes(1));
        assertThat(reaper.takeOverExpired())
                .as("a job never leased waits in the queue")
                .isFalse();

        assertThat(lease(job, "holder", Duration.ofMinutes(1)).acquire()).isTrue();
        assertThat(reaper.takeOverExpired()).isFalse();
        assertThat(lease(job, "other", Duration.ofMinutes(1)).acquire()).isFalse();
    }

    @Test
    void aHolderWhoseLeaseWasTakenOverCannotRenewIt() throws Exception {
        String job = "fenced-" + UUID.randomUUID().toString().substring(0, 8);
        JobLease paused = lease(job, "paused-worker", SHORT);
        assertThat(paused.acquire()).isTrue();
        assertThat(paused.renew()).as("renewing a lease still held").isTrue();
        Thread.sleep(SHORT.toMillis() + 50);

        JobLease reaper = lease(job, "reaper", Duration.ofMinutes(1));
        assertThat(reaper.takeOverExpired()).isTrue();

        assertThat(paused.renew())
                .as("the paused worker comes back after the takeover")
                .isFalse();
        assertThat(reaper.renew()).isTrue();
        assertThat(reaper.followsHandOver())
                .as("a lease taken from a worker that stopped renewing: a resume that counts")
                .isFalse();
    }

    /**
     * A worker renews its lease from two threads: the watcher every third of the TTL, and the training
     * thread once more when the run ends. Renewals at the same moment must both keep the lease (each
     * rewrites the generation with If-Match on the ETag the other may just have replaced).
     */
    @Test
    void renewalsFromTwoThreadsOfTheHolderAtOnceBothKeepTheLease() throws Exception {
        String job = "renew-" + UUID.randomUUID().toString().substring(0, 8);
        JobLease held = lease(job, "worker", Duration.ofMinutes(1));
        assertThat(held.acquire()).isTrue();
        for (int round = 0; round < 15; round++) {
            CyclicBarrier start = new CyclicBarrier(2);
            Callable<Boolean> renewal = () -> {
                start.await();
                return held.renew();
            };
            for (Future<Boolean> renewed : threads.invokeAll(List.of(renewal, renewal))) {
                assertThat(renewed.get())
                        .as("round %d: a renewal of a lease nobody took", round)
                        .isTrue();
            }
        }
        assertThat(held.renew()).isTrue();
        assertThat(lease(job, "observer", SHORT)
                        .current()
                        .orElseThrow()
                        .holder()
                        .worker())
                .isEqualTo("worker");
    }

    /**
     * Whether a run resumes a preemption (uncounted) or a run that died (counted against {@code
     * max-resumes}) reaches the worker through a role-api reaper's reservations, however many of them
     * expire unclaimed before a worker takes one.
     */
    @Test
    void aHandOverIsKnownToTheWorkerThatTakesTheReservationAndACrashIsNot() throws Exception {
        for (boolean handedOver : List.of(true, false)) {
            String job = "dispatch-" + UUID.randomUUID().toString().substring(0, 8);
            JobLease first = lease(job, "first", SHORT);
            assertThat(first.acquire()).isTrue();
            if (handedOver) {
                first.release(true); // SIGTERM: the last step checkpointed, the lease handed over
            }
            Thread.sleep(SHORT.toMillis() + 50); // a crashed worker's lease lapses

            JobLease api = lease(job, "api", Duration.ofMinutes(1));
            assertThat(api.takeOverExpired()).isTrue();
            assertThat(api.reserveForDispatch(SHORT)).isTrue();
            Thread.sleep(SHORT.toMillis() + 50); // no worker took that request in time
            JobLease again = lease(job, "api", Duration.ofMinutes(1));
            assertThat(again.takeOverExpired()).isTrue();
            assertThat(again.reserveForDispatch(Duration.ofMinutes(1))).isTrue();

            JobLease second = lease(job, "second", Duration.ofMinutes(1));
            assertThat(second.acquire())
                    .as("the reservation is free for the worker with the request")
                    .isTrue();
            assertThat(second.followsHandOver())
                    .as("handed over: %s", handedOver)
                    .isEqualTo(handedOver);
        }
    }

    @Test
    void aReleasedLeaseIsFreeAtOnce() {
        String job = "released-" + UUID.randomUUID().toString().substring(0, 8);
        JobLease first = lease(job, "first", Duration.ofMinutes(1));
        assertThat(first.acquire()).isTrue();
        first.release();

        assertThat(lease(job, "second", Duration.ofMinutes(1)).acquire()).isTrue();
        assertThat(lease(job, "observer", SHORT)
                        .current()
                        .orElseThrow()
                        .holder()
                        .worker())
                .isEqualTo("second");
    }

    private JobLease lease(String job, String worker, Duration ttl) {
        return new JobLease(store, JSON, job, worker, ttl);
    }
}
