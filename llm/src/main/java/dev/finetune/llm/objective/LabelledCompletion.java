package dev.finetune.llm.objective;

/**
 * A tokenized unpaired preference example (KTO): the prompt (rendered with the assistant header,
 * ready for a reply) and one completion, labelled desirable or undesirable.
 */
public record LabelledCompletion(long[] prompt, long[] completion, boolean desirable) {
    public LabelledCompletion {
        if (prompt.length == 0 || completion.length == 0) {
            throw new IllegalArgumentException("a labelled completion needs a non-empty prompt and completion");
        }
    }
}
