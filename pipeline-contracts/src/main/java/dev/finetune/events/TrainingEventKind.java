package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;

/** What a training event reports. */
public enum TrainingEventKind implements WireCode {
    /** The job changed state. */
    STATE("state"),
    /** Training progress: step, loss, learning rate and throughput. */
    METRICS("metrics"),
    /** A checkpoint was written (also announced on the checkpoints topic). */
    CHECKPOINT("checkpoint");

    private final String code;

    TrainingEventKind(String code) {
        this.code = code;
    }

    @Override
    public String code() {
        return code;
    }

    @JsonCreator
    public static TrainingEventKind fromCode(String code) {
        return WireCode.fromCode(TrainingEventKind.class, code);
    }
}
