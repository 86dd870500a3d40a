package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;

/** The outcome of an evaluation. */
public enum EvaluationStatus implements WireCode {
    /** Scored, and every gate passed (or there were none). */
    PASSED("passed"),
    /** Scored, but at least one gate failed. */
    GATES_FAILED("gates_failed"),
    /** Could not be scored (e.g. the checkpoint could not be loaded); the event says why. */
    ERROR("error");

    private final String code;

    EvaluationStatus(String code) {
        this.code = code;
    }

    @Override
    public String code() {
        return code;
    }

    @JsonCreator
    public static EvaluationStatus fromCode(String code) {
        return WireCode.fromCode(EvaluationStatus.class, code);
    }
}
