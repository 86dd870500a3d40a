package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;

/** What a prepared dataset can train. */
public enum DatasetKind implements WireCode {
    /** Conversations ending in an assistant turn: supervised fine-tuning. */
    SFT("sft", "conversations (messages, or prompt and completion)"),
    /** A prompt with a chosen and a rejected answer: DPO and ORPO. */
    PREFERENCE("preference", "preference pairs (fields prompt, chosen, rejected)"),
    /** Completions each labelled desirable or not, TRL's unpaired preference format: KTO. */
    UNPAIRED_PREFERENCE("unpaired_preference", "labelled completions (fields prompt, completion, label)"),
    /**
     * Questions with choices and the right one: evaluated by each choice's log-likelihood (task
     * accuracy); each line is also a conversation (the question, the right choice), so SFT trains on it.
     */
    MULTIPLE_CHOICE("multiple_choice", "multiple-choice questions (fields question, choices, answer)"),
    /**
     * Token ids with the positions trained on (HF's {@code labels} or TRL's {@code completion_mask}):
     * trained as they are, no chat template and no tokenizer, for reproducible SFT.
     */
    TOKENIZED("tokenized", "pre-tokenized examples (fields input_ids and labels or completion_mask)"),
    /**
     * Prompts without answers, for methods that sample their own completions (PPO, GRPO): the prompt
     * conversation ends in a user turn; an optional reference answer serves rule rewards. Prepared
     * lines read {@code {"prompt": [messages], "reference": "..."}} ({@code reference} only when given).
     */
    PROMPT("prompt", "prompts (field prompt, or messages ending in a user turn; optional reference)");

    private final String code;
    private final String description;

    DatasetKind(String code, String description) {
        this.code = code;
        this.description = description;
    }

    @Override
    public String code() {
        return code;
    }

    /** What its examples are, with the fields that make them, for messages. */
    public String description() {
        return description;
    }

    @JsonCreator
    public static DatasetKind fromCode(String code) {
        return WireCode.fromCode(DatasetKind.class, code);
    }
}
