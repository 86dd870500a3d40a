package dev.finetune.eval.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.eval.EvalSettings;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.tokenizer.ChatMessage;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PromptBaselineTest {
    private static final List<List<ChatMessage>> TRAIN = IntStream.range(0, 20)
            .mapToObj(i ->
                    List.of(ChatMessage.system("ignored"), ChatMessage.user("q" + i), ChatMessage.assistant("a" + i)))
            .toList();

    @Test
    void randomSelectionIsTheSameForTheSameSeedAndFirstTakesTheSplitsStart() {
        List<List<ChatMessage>> once =
                PromptBaseline.choose(settings(3, "random", 5), TRAIN).examples();
        assertThat(PromptBaseline.choose(settings(3, "random", 5), TRAIN).examples())
                .isEqualTo(once);
        assertThat(once).hasSize(3).doesNotHaveDuplicates();
        assertThat(PromptBaseline.choose(settings(3, "random", 6), TRAIN).examples())
                .isNotEqualTo(once);
        assertThat(PromptBaseline.choose(settings(2, "First", 5), TRAIN).examples())
                .containsExactly(
                        List.of(ChatMessage.user("q0"), ChatMessage.assistant("a0")),
                        List.of(ChatMessage.user("q1"), ChatMessage.assistant("a1")));
        assertThat(PromptBaseline.choose(settings(50, "first", 0), TRAIN).examples())
                .hasSize(20);
    }

    @Test
    void theConversationFollowsTheSystemPromptAndExamplesWithItsOwnSystemMessageJoined() {
        PromptBaseline baseline = PromptBaseline.choose(settings(2, "first", 0), TRAIN);
        PromptBaseline.Prompted prompted = baseline.apply(
                List.of(ChatMessage.system("Be exact."), ChatMessage.user("q?"), ChatMessage.assistant("a!")), 2);

        assertThat(prompted.messages())
                .containsExactly(
                        ChatMessage.system("Answer briefly.\n\nBe exact."),
                        ChatMessage.user("q0"),
                        ChatMessage.assistant("a0"),
                        ChatMessage.user("q1"),
                        ChatMessage.assistant("a1"),
                        ChatMessage.user("q?"),
                        ChatMessage.assistant("a!"));
        assertThat(prompted.firstOwn()).isEqualTo(5);
        assertThat(baseline.apply(List.of(ChatMessage.user("q?")), 0).messages())
                .containsExactly(ChatMessage.system("Answer briefly."), ChatMessage.user("q?"));
    }

    @Test
    void examplesAreLeftOutUntilTheConversationFits() {
        PromptBaseline baseline = PromptBaseline.choose(settings(3, "first", 0), TRAIN);
        List<ChatMessage> conversation = List.of(ChatMessage.user("q?"), ChatMessage.assistant("a!"));
        PromptBaseline.Length messages = List::size; // a message a token

        assertThat(baseline.fit(conversation, 9, messages)).isEqualTo(3); // 1 + 3 x 2 + 2
        assertThat(baseline.fit(conversation, 8, messages)).isEqualTo(2);
        assertThat(baseline.fit(conversation, 3, messages)).isEqualTo(0);
    }

    @Test
    void aPromptedExampleTooLongForTheLimitLosesContextNotItsOwnTokens() {
        long[] ids = IntStream.range(0, 10).asLongStream().toArray();
        boolean[] targets = new boolean[10];
        targets[8] = true; // the example's own answer
        targets[9] = true;
        TrainingSequence whole = TrainingSequence.of(ids, targets);

        // Own part (from 6) is 4 tokens: the context keeps its last 2.
        TrainingSequence cut = EvalExamples.withinLimit(whole, 6, 6);
        assertThat(cut.ids()).containsExactly(4, 5, 6, 7, 8, 9);
        assertThat(cut.targetCount()).isEqualTo(2);
        // Own part (from 2) is 8 tokens, more than the limit: it keeps its start, as alone.
        assertThat(EvalExamples.withinLimit(whole, 2, 6).ids()).containsExactly(2, 3, 4, 5, 6, 7);
        assertThat(EvalExamples.withinLimit(whole, 2, 6).targets()[0]).isFalse();
        assertThat(EvalExamples.withinLimit(whole, 6, 10)).isSameAs(whole);
    }

    @Test
    void badSettingsAreRefusedNamingTheSetting() {
        assertThatThrownBy(() -> PromptBaseline.choose(settings(-1, "random", 0), TRAIN))
                .hasMessage("pipeline.eval.prompt-baseline.shots must be 0 or more, got -1");
        assertThatThrownBy(() -> PromptBaseline.choose(settings(3, "best", 0), TRAIN))
                .hasMessage("pipeline.eval.prompt-baseline.selection must be random or first, got 'best'");
    }

    @Test
    void theCacheKeyChangesWithEverySettingThatChoosesTheExamples() {
        String key = PromptBaseline.choose(settings(3, "random", 0), TRAIN).key();
        assertThat(key).matches("prompt-[0-9a-f]{12}");
        assertThat(PromptBaseline.choose(settings(3, "random", 0), TRAIN.subList(0, 5))
                        .key())
                .as("the examples follow from the settings and the dataset version, which has its own key part")
                .isEqualTo(key);
        assertThat(List.of(
                        PromptBaseline.choose(settings(2, "random", 0), TRAIN).key(),
                        PromptBaseline.choose(settings(3, "first", 0), TRAIN).key(),
                        PromptBaseline.choose(settings(3, "random", 1), TRAIN).key()))
                .doesNotContain(key)
                .doesNotHaveDuplicates();
    }

    private static EvalSettings.PromptBaseline settings(int shots, String selection, long seed) {
        return new EvalSettings.PromptBaseline() {
            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public int shots() {
                return shots;
            }

            @Override
            public String systemPrompt() {
                return "Answer briefly.";
            }

            @Override
            public String selection() {
                return selection;
            }

            @Override
            public long seed() {
                return seed;
            }
        };
    }
}
