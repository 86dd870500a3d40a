package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;

/** Which weights a job trains. */
public enum FineTuneMethod implements WireCode {
    /** Every weight of the model. */
    FULL("full"),
    /** Low-rank adapters on a frozen base. */
    LORA("lora"),
    /** Low-rank adapters on a frozen base stored as 4-bit NF4. */
    QLORA("qlora");

    private final String code;

    FineTuneMethod(String code) {
        this.code = code;
    }

    @Override
    public String code() {
        return code;
    }

    @JsonCreator
    public static FineTuneMethod fromCode(String code) {
        return WireCode.fromCode(FineTuneMethod.class, code);
    }
}
