package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;

/** What a job optimises. */
public enum Objective implements WireCode {
    /** Supervised fine-tuning: next-token loss on the completion or assistant tokens. */
    SFT("sft"),
    /** Direct preference optimisation on chosen/rejected pairs. */
    DPO("dpo"),
    /** Odds ratio preference optimisation on chosen/rejected pairs: SFT plus an odds-ratio term, no reference. */
    ORPO("orpo");

    private final String code;

    Objective(String code) {
        this.code = code;
    }

    @Override
    public String code() {
        return code;
    }

    @JsonCreator
    public static Objective fromCode(String code) {
        return WireCode.fromCode(Objective.class, code);
    }
}
