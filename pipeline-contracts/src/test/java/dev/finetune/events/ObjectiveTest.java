package dev.finetune.events;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ObjectiveTest {
    @Test
    void eachObjectiveTrainsOnItsKindAndSftAlsoOnMultipleChoiceQuestions() {
        for (Objective objective : Objective.values()) {
            assertThat(objective.trainsOn(objective.datasetKind()))
                    .as(objective.code())
                    .isTrue();
        }
        assertThat(Objective.SFT.trainsOn(DatasetKind.MULTIPLE_CHOICE)).isTrue();
        assertThat(Objective.DPO.trainsOn(DatasetKind.MULTIPLE_CHOICE)).isFalse();
        assertThat(Objective.SFT.trainsOn(DatasetKind.TOKENIZED)).isTrue();
        for (Objective preference : new Objective[] {Objective.DPO, Objective.ORPO, Objective.KTO}) {
            assertThat(preference.trainsOn(DatasetKind.TOKENIZED))
                    .as(preference.code())
                    .isFalse();
        }
        assertThat(Objective.SFT.trainsOn(DatasetKind.PREFERENCE)).isFalse();
        assertThat(Objective.KTO.trainsOn(DatasetKind.PREFERENCE)).isFalse();
        assertThat(Objective.REWARD.trainsOn(DatasetKind.PREFERENCE)).isTrue();
        assertThat(Objective.REWARD.trainsOn(DatasetKind.SFT)).isFalse();
        assertThat(Objective.fromCode("reward")).isEqualTo(Objective.REWARD);
        assertThat(Objective.GRPO.trainsOn(DatasetKind.PROMPT)).isTrue();
        assertThat(Objective.GRPO.trainsOn(DatasetKind.SFT)).isFalse();
        assertThat(Objective.fromCode("ppo")).isEqualTo(Objective.PPO);
        assertThat(Objective.PPO.trainsOn(DatasetKind.PROMPT)).isTrue();
        assertThat(Objective.PPO.trainsOn(DatasetKind.PREFERENCE)).isFalse();
    }
}
