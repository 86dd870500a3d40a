package dev.finetune.training.worker;

/** Why a job's training was asked to stop before its last step. */
enum StopReason {
    /** A person cancelled the job: it ends cancelled, its last checkpoint kept. */
    CANCELLED,
    /** This worker could not renew its lease: another worker took the job over. */
    LEASE_LOST,
    /** The job ran longer than {@code pipeline.training.job-timeout}. */
    TIMEOUT,
    /**
     * The worker is shutting down (SIGTERM: a node drain, a spot reclaim): its last step is
     * checkpointed, the lease handed over, and another worker resumes the job.
     */
    PREEMPTED
}
