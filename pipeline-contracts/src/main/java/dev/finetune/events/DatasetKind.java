package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;

/** What a prepared dataset can train. */
public enum DatasetKind implements WireCode {
    /** Conversations ending in an assistant turn: supervised fine-tuning. */
    SFT("sft"),
    /** A prompt with a chosen and a rejected answer: DPO. */
    PREFERENCE("preference");

    private final String code;

    DatasetKind(String code) {
        this.code = code;
    }

    @Override
    public String code() {
        return code;
    }

    @JsonCreator
    public static DatasetKind fromCode(String code) {
        return WireCode.fromCode(DatasetKind.class, code);
    }
}
