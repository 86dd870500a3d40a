package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;

/** The shape of a dataset's JSONL lines. */
public enum DatasetFormat implements WireCode {
    /** Detect the format from the first valid line. */
    AUTO("auto"),
    /** {@code instruction}, optional {@code input}, {@code output}. */
    ALPACA("alpaca"),
    /** {@code messages}: a list of {@code role}/{@code content}, the OpenAI fine-tuning shape. */
    CHAT("chat"),
    /**
     * ShareGPT exports: {@code conversations}, a list of {@code from}/{@code value} turns ({@code
     * human} or {@code user}, {@code gpt} or {@code assistant}, {@code system}), and an optional
     * top-level {@code system}; prepared as chat.
     */
    SHAREGPT("sharegpt"),
    /**
     * {@code question}, {@code choices} (two or more distinct strings) and {@code answer} (the right
     * choice's 0-based index, or its text).
     */
    MULTIPLE_CHOICE("multiple_choice"),
    /** {@code prompt} and {@code completion} strings. */
    PROMPT_COMPLETION("prompt_completion"),
    /** {@code prompt}, {@code chosen}, {@code rejected} (strings or message lists). */
    PREFERENCE("preference"),
    /** {@code prompt}, {@code completion} (strings or message lists) and a boolean {@code label}: TRL's unpaired preference. */
    UNPAIRED_PREFERENCE("unpaired_preference"),
    /**
     * {@code input_ids} (token ids of the base model's tokenizer) with {@code labels} (HF: -100 where
     * not trained, else the id itself) or {@code completion_mask} (TRL: 1 where trained), optionally
     * an all-ones {@code attention_mask}.
     */
    TOKENIZED("tokenized");

    private final String code;

    DatasetFormat(String code) {
        this.code = code;
    }

    @Override
    public String code() {
        return code;
    }

    @JsonCreator
    public static DatasetFormat fromCode(String code) {
        return WireCode.fromCode(DatasetFormat.class, code);
    }
}
