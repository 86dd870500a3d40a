package dev.finetune.training;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** {@code pipeline.training.*}: how workers run jobs. */
@ConfigMapping(prefix = "pipeline.training")
public interface TrainingSettings {
    /** Local disk for base models (cached across jobs), datasets and run directories. */
    @WithDefault("${java.io.tmpdir}/finetune-worker")
    Path workDir();

    /** This worker's name in leases and events; defaults to the host name (the pod name on Kubernetes). */
    Optional<String> workerId();

    /**
     * What this process does ({@link Role}): everything ({@code all}, for local runs and compose),
     * or one side of the split Kubernetes deployment ({@code api} or {@code worker}).
     */
    @WithDefault("all")
    Role role();

    /** The parts of the training-service one process runs. */
    enum Role {
        /** The job API, dataset triggers, live streams and the lease reaper, and it trains: one process does it all. */
        ALL,
        /**
         * The job API, dataset triggers, live streams and the lease reaper, without GPUs: it consumes no
         * training request and never loads a model; its reaper puts a stranded job back on the queue
         * for a worker instead of training it ({@link dev.finetune.training.worker.LeaseReaper}).
         */
        API,
        /** Trains the jobs it takes from {@code training.jobs}; nothing else (no triggers, no reaper). */
        WORKER;

        /** Whether this role takes training requests and trains them. */
        public boolean trains() {
            return this != API;
        }

        /** Whether this role runs the job API's side: triggers, live streams, the lease reaper. */
        public boolean serves() {
            return this != WORKER;
        }
    }

    /** {@code pipeline.training.worker.*}: how long a worker process lives. */
    Worker worker();

    /** How long a worker process lives. */
    interface Worker {
        /**
         * One job, then exit 0: the pod of a Kubernetes Job (a KEDA ScaledJob starts one per request)
         * takes one training request, runs it to its end or to a preemption, and the process ends so
         * the Job completes ({@link dev.finetune.training.worker.OneJobPod} has the protocol). Off: the
         * worker takes jobs until it is stopped.
         */
        @WithDefault("false")
        boolean oneJob();

        /**
         * In one-job mode, a worker that has taken no request this long after it started exits 0: the
         * request it was started for went to another pod (KEDA counts lag, not who takes it). Long
         * enough to join the consumer group after a rebalance, short enough not to hold a GPU node idle.
         */
        @WithDefault("5m")
        Duration idleTimeout();

        /**
         * In one-job mode, a request whose job is leased by a live worker is left to it after waiting
         * this long for the lease to expire (a holder that died lets its lease lapse within one lease
         * TTL; one that still renews after that is alive), instead of holding this pod for the whole
         * run. Unset: one lease TTL plus one renewal interval.
         */
        Optional<Duration> liveLeaseWait();
    }

    /**
     * Progress (a metrics event, and the record's step) is reported at most this often, and always
     * at the last step, after each checkpoint and at state changes: often enough for a live progress
     * bar, rare enough that reporting costs the training loop nothing (it runs on a thread of its own).
     */
    @WithDefault("10s")
    Duration reportInterval();

    /**
     * Whether a starting worker trains a generated tiny model for a few dozen steps ({@code
     * TrainingWarmup}, about 2 s on 2 cores) so that its first job runs compiled training code; the
     * first job waits for it, at most 30 s.
     */
    @WithDefault("true")
    boolean warmupTraining();

    /** The lease outlives a missed renewal or two; a dead worker's job is free again after this. */
    @WithDefault("30s")
    Duration leaseTtl();

    /**
     * On shutdown (SIGTERM), how long the worker waits for its job to stop after the micro-batch in
     * progress, checkpoint its last step, upload it and hand the lease over. It must fit in the pod's
     * termination grace period (120 s in deploy/) with room for the rest of the shutdown.
     */
    @WithDefault("90s")
    Duration preemptionGrace();

    /**
     * The memory a training worker may use. A job whose estimated need exceeds it is refused at
     * validation with both numbers (llm's {@code JobMemory}); one that leaves {@code base_dtype} unset
     * gets the most precise base that fits. Unset: this instance's memory (the container's limit,
     * else the machine's), right when this process also trains (role all); a role api process
     * validates for workers in other pods, so it must be told their limit.
     */
    Optional<MemorySize> memoryLimit();

    /**
     * How often a training job looks for a cancel request (one small object-store read each time);
     * the job stops at the next micro-batch boundary after it sees one.
     */
    @WithDefault("2s")
    Duration cancelCheckInterval();

    /** {@code pipeline.training.reaper.*}: finding jobs whose worker died. */
    Reaper reaper();

    /**
     * The lease reaper (roles all and api) finds a job that is neither ended nor held by a live lease
     * (its worker died and nothing redelivers it) and resumes it, or fails it once it has been resumed
     * this way too often. Role all trains it itself; role api requests it again on {@code
     * training.jobs} for a worker.
     */
    interface Reaper {
        /** How often the reaper looks for stranded jobs; each look reads every job that has not ended. */
        @WithDefault("60s")
        Duration interval();

        /**
         * A job is resumed after a run that died at most this many times, counted in its record
         * ({@code JobRecord#resumes}) by every run that starts after one that died, whether the reaper
         * took it over or requested it again or its record was redelivered; the next start fails it
         * with the reason (a job that kills its workers must not loop for ever). A run that resumes a
         * preemption's hand-over is not counted.
         */
        @WithDefault("3")
        int maxResumes();

        /**
         * A job still {@code validating}, or {@code queued} with no request on {@code training.jobs},
         * this long after it was created lost its creating request half-way (the service died, or the
         * broker stayed away past the send's final timeout): the reaper requests it.
         */
        @WithDefault("2m")
        Duration unrequestedAfter();

        /**
         * Role api: a job it requested again is reserved this long for the worker that takes the
         * request (its lease says so); only then is it requested once more. Covers starting a pod on a
         * GPU node that the cluster autoscaler first has to add (minutes).
         */
        @WithDefault("15m")
        Duration dispatchWindow();
    }

    /**
     * The most tokens one job may train on: a job whose plan exceeds it is refused at validation with
     * both numbers and the setting that would fit (the job's {@code max_steps} or {@code
     * num_train_epochs}, or this). The default, one billion, is about a day of a GPU worker at 11,600
     * tokens/s (LoRA on a 1-3B model): more than that should be a deliberate choice, not a typo in
     * num_train_epochs.
     */
    @WithDefault("1000000000")
    long maxJobTokens();

    /** A job running longer than this is stopped and failed: hung hardware must not hold a GPU for ever. */
    @WithDefault("24h")
    Duration jobTimeout();
}
