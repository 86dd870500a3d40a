package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;

/** What a job optimises. */
public enum Objective implements WireCode {
    /** Supervised fine-tuning: next-token loss on the completion or assistant tokens. */
    SFT("sft", DatasetKind.SFT),
    /** Direct preference optimisation on chosen/rejected pairs. */
    DPO("dpo", DatasetKind.PREFERENCE),
    /** Odds ratio preference optimisation on chosen/rejected pairs: SFT plus an odds-ratio term, no reference. */
    ORPO("orpo", DatasetKind.PREFERENCE),
    /** Kahneman-Tversky optimisation on completions each labelled desirable or undesirable. */
    KTO("kto", DatasetKind.UNPAIRED_PREFERENCE),
    /**
     * Reward model training on chosen/rejected pairs: a scalar score head on the last token, Bradley-Terry
     * loss {@code -log sigmoid(r_chosen - r_rejected)} (TRL's RewardTrainer).
     */
    REWARD("reward", DatasetKind.PREFERENCE),
    /**
     * Group relative policy optimisation on prompts: completions sampled from the policy, scored by the
     * job's reward functions and compared within each prompt's group.
     */
    GRPO("grpo", DatasetKind.PROMPT),
    /**
     * Proximal policy optimisation on prompts (RLHF, TRL's PPOTrainer): one completion sampled per prompt,
     * rewarded at its last token, with a per-token KL penalty to the reference, a value head and GAE.
     */
    PPO("ppo", DatasetKind.PROMPT);

    private final String code;
    private final DatasetKind datasetKind;

    Objective(String code, DatasetKind datasetKind) {
        this.code = code;
        this.datasetKind = datasetKind;
    }

    /** The kind of prepared dataset this objective trains on. */
    public DatasetKind datasetKind() {
        return datasetKind;
    }

    /**
     * Whether it trains on {@code kind}: its own, and for SFT multiple-choice questions too (question,
     * right answer) and pre-tokenized examples (ids with their trained positions).
     */
    public boolean trainsOn(DatasetKind kind) {
        return kind == datasetKind
                || (this == SFT && (kind == DatasetKind.MULTIPLE_CHOICE || kind == DatasetKind.TOKENIZED));
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
