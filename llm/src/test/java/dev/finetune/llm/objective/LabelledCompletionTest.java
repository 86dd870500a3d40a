package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** KTO's KL completions are paired as TRL's _get_kl_dataset pairs them: within groups, each with the one before. */
class LabelledCompletionTest {
    @Test
    void eachExampleTakesTheCompletionOfTheOneBeforeItInItsGroup() {
        List<LabelledCompletion> examples = List.of(
                new LabelledCompletion(new long[] {1, 10}, new long[] {100}, true),
                new LabelledCompletion(new long[] {1, 11}, new long[] {101, 2}, false),
                new LabelledCompletion(new long[] {1, 12}, new long[] {102}, true),
                new LabelledCompletion(new long[] {1, 13, 14, 15}, new long[] {103, 3, 4}, false),
                new LabelledCompletion(new long[] {1, 16}, new long[] {104}, true));

        List<PreferencePair> items = LabelledCompletion.withKlCompletions(examples, 2, 6);

        assertThat(items)
                .extracting(PreferencePair::prompt)
                .containsExactly(
                        examples.stream().map(LabelledCompletion::prompt).toArray(long[][]::new));
        assertThat(items)
                .extracting(PreferencePair::chosen)
                .containsExactly(
                        examples.stream().map(LabelledCompletion::completion).toArray(long[][]::new));
        assertThat(items.get(0).rejected())
                .as("the first of a group takes the last's")
                .containsExactly(101, 2);
        assertThat(items.get(1).rejected()).containsExactly(100);
        assertThat(items.get(2).rejected())
                .as("room for all 3 after a 2-token prompt")
                .containsExactly(103, 3, 4);
        assertThat(items.get(3).rejected())
                .as("2 tokens of room after a 4-token prompt in 6")
                .containsExactly(102);
        assertThat(items.get(4).rejected()).as("a group of one is its own").containsExactly(104);
    }
}
