package dev.finetune.training.worker;

import dev.finetune.training.TrainingSettings;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * One-job mode ({@code pipeline.training.worker.one-job}): the lifetime of a worker that is the pod
 * of a Kubernetes Job, one of which KEDA's ScaledJob starts per record of lag on {@code
 * training.jobs} for the group {@code training-workers}. A Job completes; it is never scaled in, so
 * no autoscaler can delete a pod that is training. The protocol, step by step:
 *
 * <ol>
 *   <li>The pod joins the group like any worker and is given partitions. The first record {@link
 *       TrainingWorker} receives is the pod's one ({@link #take}); it runs that job exactly as a
 *       long-lived worker would: the lease decides who trains (see 4 and 5).
 *   <li>A record that arrives after it is neither acknowledged nor refused: its offset stays
 *       uncommitted, so once this pod has left the group the record goes to the group's next
 *       consumer (a pod KEDA starts for that lag). Nothing is dead-lettered for being second.
 *   <li>When the job's record has been acknowledged (the job ended, was cancelled, or was preempted
 *       and handed over), the process exits 0 ({@link #done}). The Kafka source commits the
 *       acknowledged offset as it closes and the consumer leaves the group, so its partitions move
 *       on at once instead of after the session timeout: seconds after the acknowledgement (0.6 to
 *       4.7 s in SplitRolesIT's logs), early in the shutdown. It does not leave before that: SmallRye
 *       has no way to close one channel's consumer, and unsubscribing beneath its polling loop would
 *       also take the group membership its commit of this record needs (deploy/README.md).
 *   <li>A pod that dies mid-job commits nothing: its record is redelivered to the next consumer of
 *       the partition (the Job's replacement pod, within {@code backoffLimit}, or the pod of the next
 *       Job KEDA starts for the lag), which waits at most one lease TTL for the dead holder's lease
 *       to lapse and resumes the job from its last checkpoint.
 *   <li>A record whose job is leased by a worker that is still alive (the partition moved in a
 *       rebalance while its holder trains, or the job was requested twice) is acknowledged without
 *       training after {@code worker.live-lease-wait}: the holder finishes it, and if the holder dies
 *       later, its lease lapses and the api's lease reaper requests the job again. This pod must not
 *       hold a GPU for hours waiting behind another pod's run.
 *   <li>A pod that receives no record within {@code worker.idle-timeout} exits 0 too: KEDA starts
 *       Jobs from the lag, and the record it was started for may have gone to another pod.
 * </ol>
 *
 * A worker that is not in one-job mode takes records until it is stopped, as before.
 */
@ApplicationScoped
public class OneJobPod {
    private static final Logger LOG = Logger.getLogger(OneJobPod.class);

    private final boolean enabled;
    private final Duration idleTimeout;
    private final Duration liveLeaseWait;
    /** Set once: by the pod's one record, or by the idle timeout, whichever comes first. */
    private final AtomicBoolean taken = new AtomicBoolean();

    private final AtomicBoolean exiting = new AtomicBoolean();
    private ScheduledExecutorService idle;

    OneJobPod(TrainingSettings settings) {
        this.enabled = settings.worker().oneJob();
        this.idleTimeout = settings.worker().idleTimeout();
        this.liveLeaseWait = settings.worker()
                .liveLeaseWait()
                .orElse(settings.leaseTtl().plus(settings.leaseTtl().dividedBy(3)));
        if (enabled && !settings.role().trains()) {
            throw new IllegalArgumentException("pipeline.training.worker.one-job is for a process that trains, but"
                    + " pipeline.training.role is " + settings.role().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (enabled && (idleTimeout.isNegative() || idleTimeout.isZero())) {
            throw new IllegalArgumentException(
                    "pipeline.training.worker.idle-timeout must be a positive duration, got " + idleTimeout);
        }
    }

    void start(@Observes StartupEvent startup) {
        if (!enabled) {
            return;
        }
        idle = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "one-job-idle");
            thread.setDaemon(true);
            return thread;
        });
        idle.schedule(this::idleExit, idleTimeout.toMillis(), TimeUnit.MILLISECONDS);
        LOG.infof("one-job mode: this worker runs one training request and exits (idle after %s)", idleTimeout);
    }

    void stop(@Observes ShutdownEvent shutdown) {
        if (idle != null) {
            idle.shutdownNow();
        }
    }

    /** Whether this pod runs the record it received: always when not in one-job mode, else only its first. */
    boolean take() {
        return !enabled || taken.compareAndSet(false, true);
    }

    /** Whether a job leased by a live worker is left to it after {@link #liveLeaseWait} (one-job mode). */
    boolean leavesLiveLeases() {
        return enabled;
    }

    /** How long a request's live lease is waited for before the job is left to its holder. */
    Duration liveLeaseWait() {
        return liveLeaseWait;
    }

    /** The pod's one record was acknowledged: the process exits 0 so its Kubernetes Job completes. */
    void done(String jobId) {
        if (enabled) {
            exit("job " + jobId + " handled");
        }
    }

    /** Whether this process is on its way out (one job done, or idle too long). */
    public boolean exiting() {
        return exiting.get();
    }

    private void idleExit() {
        if (taken.compareAndSet(false, true)) {
            exit("no training request within " + idleTimeout + " (pipeline.training.worker.idle-timeout)");
        }
    }

    private void exit(String why) {
        if (exiting.compareAndSet(false, true)) {
            LOG.infof("one-job mode: %s; exiting", why);
            Quarkus.asyncExit(0);
        }
    }
}
