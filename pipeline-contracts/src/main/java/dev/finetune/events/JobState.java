package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;

/** A fine-tuning job's state, as users of hosted fine-tuning APIs know them: {@code validating -> queued -> running -> succeeded | failed | cancelled}. */
public enum JobState implements WireCode {
    /** The request is being checked (base model, dataset, hyperparameters). */
    VALIDATING("validating"),
    /** Valid and waiting for a worker. */
    QUEUED("queued"),
    /** A worker is training it. */
    RUNNING("running"),
    /** Training finished; the final adapter is stored. Terminal. */
    SUCCEEDED("succeeded"),
    /** Stopped by an error; the event carries the reason. Terminal. */
    FAILED("failed"),
    /** Stopped on request; the last checkpoint is kept. Terminal. */
    CANCELLED("cancelled");

    private final String code;

    JobState(String code) {
        this.code = code;
    }

    @Override
    public String code() {
        return code;
    }

    /** Whether the job can never change state again. */
    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    @JsonCreator
    public static JobState fromCode(String code) {
        return WireCode.fromCode(JobState.class, code);
    }
}
