package dev.finetune.llm.objective;

import java.util.ArrayList;
import java.util.List;

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

    /**
     * Each example as a pair of its own completion and its KL completion, for KTO's KL estimate: TRL's
     * {@code _get_kl_dataset} over groups of {@code groupSize} examples in file order (TRL maps the
     * dataset in batches of per_device_train_batch_size before shuffling), where example i's KL
     * completion is the completion of example i - 1 of its group (the first takes the last's), cut to
     * fit after example i's prompt. A group of one is its own KL completion, as in TRL.
     */
    public static List<PreferencePair> withKlCompletions(
            List<LabelledCompletion> examples, int groupSize, int maxLength) {
        List<PreferencePair> items = new ArrayList<>();
        for (int start = 0; start < examples.size(); start += groupSize) {
            int size = Math.min(groupSize, examples.size() - start);
            for (int i = 0; i < size; i++) {
                LabelledCompletion example = examples.get(start + i);
                long[] other = examples.get(start + (i + size - 1) % size).completion();
                items.add(new PreferencePair(
                        example.prompt(),
                        example.completion(),
                        ChatEncoder.fitAfter(example.prompt(), other, maxLength)));
            }
        }
        return items;
    }
}
