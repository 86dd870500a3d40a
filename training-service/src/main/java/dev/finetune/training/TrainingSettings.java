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
     * else the machine's), since workers run in the service's own pods.
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
     * Every training worker runs the lease reaper: it resumes a job that is neither ended nor held
     * by a live lease (its worker died and nothing redelivers it), or fails it once it has been
     * resumed this way too often.
     */
    interface Reaper {
        /** How often the reaper looks for stranded jobs; each look reads every job that has not ended. */
        @WithDefault("60s")
        Duration interval();

        /**
         * The reaper resumes a job at most this many times; the next time it finds the job
         * stranded, it fails it with the reason (a job that kills its workers must not loop for ever).
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
