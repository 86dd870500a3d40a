package dev.finetune.llm.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class PromptLookupTest {
    @Test
    void draftsWhatFollowedTheEarliestEarlierOccurrenceOfTheLastTwoTokens() {
        //              0  1  2  3  4  5  6  7  8  9
        long[] text = {7, 1, 2, 3, 4, 1, 2, 9, 5, 1, 2};

        assertThat(PromptLookup.draft(text, 3, Set.of())).containsExactly(3, 4, 1);
        assertThat(PromptLookup.draft(text, 10, Set.of()))
                .as("up to the end of the text")
                .containsExactly(3, 4, 1, 2, 9, 5, 1, 2);
    }

    @Test
    void fallsBackToTheLastTokenAloneWhenTheLastTwoNeverOccurredBefore() {
        long[] text = {4, 8, 6, 5, 8};

        assertThat(PromptLookup.draft(text, 2, Set.of())).containsExactly(6, 5);
    }

    @Test
    void proposesNothingWithoutAnEarlierOccurrence() {
        long[] text = {1, 2, 3, 4, 5};

        assertThat(PromptLookup.draft(text, 5, Set.of())).isEmpty();
        assertThat(PromptLookup.draft(new long[] {3}, 5, Set.of())).isEmpty();
        assertThat(PromptLookup.draft(new long[] {1, 2, 1, 2}, 0, Set.of())).isEmpty();
    }

    @Test
    void aDraftStopsAtTheEndOfTheText() {
        long[] text = {1, 2, 3, 1, 2};

        assertThat(PromptLookup.draft(text, 4, Set.of())).containsExactly(3, 1, 2);
    }

    @Test
    void aDraftEndsBeforeItsFirstStopToken() {
        long[] text = {1, 2, 3, 0, 4, 1, 2};

        assertThat(PromptLookup.draft(text, 5, Set.of(0L))).containsExactly(3);
        assertThat(PromptLookup.draft(text, 5, Set.of(3L)))
                .as("the match is kept, its draft is empty")
                .isEmpty();
    }

    @Test
    void draftLengthGrowsByTwoAfterADraftKeptWholeAndShrinksToOneMoreThanKept() {
        PromptLookup.DraftLength length = new PromptLookup.DraftLength(10);
        assertThat(length.next()).isEqualTo(10);

        length.checked(10, 3);
        assertThat(length.next()).as("3 kept of 10").isEqualTo(4);
        length.checked(4, 0);
        assertThat(length.next()).as("none kept").isEqualTo(1);
        length.checked(1, 1);
        assertThat(length.next()).isEqualTo(3);
        length.checked(2, 2);
        assertThat(length.next())
                .as("a shorter draft kept whole still grows the length")
                .isEqualTo(5);
        length.checked(5, 5);
        length.checked(7, 7);
        length.checked(9, 9);
        assertThat(length.next()).as("never past the most").isEqualTo(10);
    }
}
