package dev.finetune.llm.objective;

/**
 * A tokenized preference example: the prompt (rendered with the assistant header, ready for a
 * reply) and the two completions that follow it, the chosen and the rejected one.
 */
public record PreferencePair(long[] prompt, long[] chosen, long[] rejected) {
    public PreferencePair {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("a preference pair needs a non-empty prompt");
        }
        if (chosen.length == 0 || rejected.length == 0) {
            throw new IllegalArgumentException("a preference pair needs non-empty chosen and rejected completions");
        }
    }

    /** Prompt followed by the chosen completion. */
    public long[] chosenSequence() {
        return concat(prompt, chosen);
    }

    /** Prompt followed by the rejected completion. */
    public long[] rejectedSequence() {
        return concat(prompt, rejected);
    }

    /** Tokens of the chosen sequence that are predicted from the ones before: all but the first. */
    public int chosenPredictions() {
        return prompt.length + chosen.length - 1;
    }

    /** Real tokens of both sequences. */
    public int tokenCount() {
        return 2 * prompt.length + chosen.length + rejected.length;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] joined = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }
}
