package dev.finetune.llm.rewards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.finetune.events.Objective;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Each rule reward on fixed completions, their weighted sum, and the errors a bad declaration gets. */
class RewardsTest {
    private static final List<Completion> COMPLETIONS = List.of(
            completion(" 42\n", 3, "42"),
            completion("The answer is 42", 5, "42"),
            completion("41", 2, "42"),
            completion("", 1, "7"));

    @Test
    void exactMatchComparesTheTrimmedTextWithTheTrimmedReference() {
        Rewards rewards = Rewards.parse(Objective.GRPO, List.of("exact_match"), List.of());
        assertThat(rewards.score(COMPLETIONS).total()).containsExactly(1, 0, 0, 0);
        assertThat(rewards.needsReference()).isTrue();
    }

    @Test
    void regexScoresOneWhereThePatternIsFound() {
        assertThat(Rewards.parse(Objective.GRPO, List.of("regex:^\\d+$"), List.of())
                        .score(COMPLETIONS)
                        .total())
                .as("anchored: the whole text")
                .containsExactly(0, 0, 1, 0);
        assertThat(Rewards.parse(Objective.GRPO, List.of("regex:\\d"), List.of())
                        .score(COMPLETIONS)
                        .total())
                .as("found anywhere")
                .containsExactly(1, 1, 1, 0);
        assertThat(Rewards.parse(Objective.GRPO, List.of("regex:\\d"), List.of())
                        .needsReference())
                .isFalse();
    }

    @Test
    void lengthPenaltyIsTheDistanceToTheTargetOverTheTarget() {
        double[] scores = Rewards.parse(Objective.GRPO, List.of("length:4"), List.of())
                .score(COMPLETIONS)
                .total();
        assertThat(scores[0]).isCloseTo(-0.25, within(1e-12)); // 3 tokens
        assertThat(scores[1]).isCloseTo(-0.25, within(1e-12)); // 5
        assertThat(scores[2]).isCloseTo(-0.5, within(1e-12)); // 2
        assertThat(scores[3]).isCloseTo(-0.75, within(1e-12)); // 1
    }

    @Test
    void theRewardIsTheWeightedSumAndEachFunctionIsReportedByName() {
        Rewards.Scores scores = Rewards.parse(
                        Objective.GRPO, List.of("exact_match", "regex:\\d", "length:4"), List.of(1.0, 0.5, 2.0))
                .score(COMPLETIONS);
        assertThat(scores.total()[0]).isCloseTo(1 + 0.5 - 0.5, within(1e-12));
        assertThat(scores.total()[1]).isCloseTo(0.5 - 0.5, within(1e-12));
        assertThat(scores.total()[3]).isCloseTo(-1.5, within(1e-12));
        assertThat(scores.perFunction()).containsOnlyKeys("exact_match", "regex:\\d", "length:4");
        assertThat(Rewards.parse(Objective.GRPO, List.of("regex:\\d", "length:4"), List.of())
                        .score(COMPLETIONS)
                        .total()[1])
                .as("no weights: 1 each")
                .isCloseTo(1 - 0.25, within(1e-12));
    }

    @Test
    void badDeclarationsAreNamedWithTheEntryAndValue() {
        assertThatThrownBy(() -> Rewards.parse(Objective.GRPO, List.of("exact_match", "regex:[0-9"), List.of()))
                .hasMessageStartingWith("reward_funcs[1] \"regex:[0-9\" is not a valid regular expression: Unclosed"
                        + " character class");
        assertThatThrownBy(() -> Rewards.parse(Objective.GRPO, List.of("bleu"), List.of()))
                .hasMessage("reward_funcs[0] \"bleu\" is not a reward function: use exact_match, regex:<pattern>,"
                        + " length:<tokens> or model:<reward model directory>");
        assertThatThrownBy(() -> Rewards.parse(Objective.GRPO, List.of("length:0"), List.of()))
                .hasMessage("reward_funcs[0] \"length:0\" needs a positive whole number of tokens, got \"0\"");
        assertThatThrownBy(() -> Rewards.parse(Objective.GRPO, List.of("exact_match", "length:3"), List.of(1.0)))
                .hasMessage("reward_weights has 1 weights for 2 reward_funcs: give one weight per function, or none"
                        + " for 1 each");
        assertThatThrownBy(() -> Rewards.parse(Objective.GRPO, List.of(), List.of()))
                .hasMessageStartingWith("reward_funcs is required with objective grpo: name at least one of");
        assertThatThrownBy(() -> Rewards.parse(Objective.PPO, List.of(), List.of()))
                .hasMessageStartingWith("reward_funcs is required with objective ppo: name at least one of");
    }

    private static Completion completion(String text, int tokens, String reference) {
        return new Completion(new long[] {1, 2}, new long[tokens], text, Optional.of(reference));
    }
}
