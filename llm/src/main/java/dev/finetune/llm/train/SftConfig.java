package dev.finetune.llm.train;

/**
 * Settings of the supervised fine-tuning objective.
 *
 * @param assistantOnlyLoss loss on the assistant's tokens only, the prompt masked. Default true: the
 *     model should learn to answer, not to write the user's turns (TRL's {@code assistant_only_loss}).
 * @param packing pack several examples into each row of {@code max_seq_length} tokens, each attending
 *     only to itself. Default false: TRL's default; turn it on for datasets of short examples.
 */
public record SftConfig(boolean assistantOnlyLoss, boolean packing) {
    public static SftConfig defaults() {
        return new SftConfig(true, false);
    }

    public SftConfig withAssistantOnlyLoss(boolean value) {
        return new SftConfig(value, packing);
    }

    public SftConfig withPacking(boolean value) {
        return new SftConfig(assistantOnlyLoss, value);
    }
}
