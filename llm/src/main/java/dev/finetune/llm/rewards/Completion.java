package dev.finetune.llm.rewards;

import java.util.Optional;

/**
 * One generated completion as the reward functions see it.
 *
 * @param prompt the prompt's tokens (chat template applied, generation prompt included)
 * @param completion the generated tokens, the stop token last if one ended it
 * @param text the completion decoded without special tokens
 * @param reference the prompt's reference answer, if its dataset line has one
 */
public record Completion(long[] prompt, long[] completion, String text, Optional<String> reference) {
    /** Prompt then completion: what a reward model scores. */
    public long[] sequence() {
        long[] sequence = java.util.Arrays.copyOf(prompt, prompt.length + completion.length);
        System.arraycopy(completion, 0, sequence, prompt.length, completion.length);
        return sequence;
    }
}
