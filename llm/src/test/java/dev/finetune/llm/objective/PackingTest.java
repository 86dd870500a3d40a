package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Packed examples neither see each other nor their row offsets: each gets the loss it has alone. */
class PackingTest {
    @Test
    void packedExamplesGiveTheLossEachHasAlone() {
        for (ModelType type : List.of(ModelType.LLAMA, ModelType.MISTRAL)) { // mistral: sliding window 6
            List<TrainingSequence> examples = examples(new int[] {9, 5, 12, 4}, 21);
            List<TrainingSequence> rows = Packing.pack(examples, 32);
            assertThat(rows).as("four examples of 30 tokens fit one row").hasSize(1);
            try (CausalLm model = TinyModelGenerator.create(
                    TinyModels.config(type), 4, TinyModelGenerator.Initialization.TEST, Device.cpu())) {
                double packed = SftLossTest.loss(model, SftBatch.of(rows, 0, true));
                double separately = 0;
                int targets = 0;
                for (TrainingSequence example : examples) {
                    SftBatch alone = SftBatch.of(List.of(example), 0, false);
                    separately += SftLossTest.loss(model, alone) * alone.targetCount();
                    targets += alone.targetCount();
                }
                assertThat(packed).as(type.hfName()).isCloseTo(separately / targets, within(1e-5));

                // Without the packed mask and positions the examples would leak into each other.
                double leaky = SftLossTest.loss(model, SftBatch.of(rows, 0, false));
                assertThat(Math.abs(leaky - packed)).as(type.hfName()).isGreaterThan(1e-3);
            }
        }
    }

    @Test
    void bestFitDecreasingFillsRowsWithoutExceedingTheCapacity() {
        List<TrainingSequence> examples = examples(new int[] {7, 6, 5, 4, 3, 3, 2}, 3);
        List<TrainingSequence> rows = Packing.pack(examples, 10);

        // 7+3, 6+4, 5+3+2: the longest first, each into the fullest row it fits.
        assertThat(rows).extracting(TrainingSequence::length).containsExactly(10, 10, 10);
        assertThat(rows.stream().mapToInt(TrainingSequence::targetCount).sum())
                .isEqualTo(examples.stream()
                        .mapToInt(TrainingSequence::targetCount)
                        .sum());
        assertThat(rows.get(0).positions()).containsExactly(0, 1, 2, 3, 4, 5, 6, 0, 1, 2);
        assertThatThrownBy(() -> Packing.pack(examples, 6)).hasMessageContaining("example 0 has 7 tokens");
    }

    /** Random examples of the given lengths whose second half is trained on. */
    private static List<TrainingSequence> examples(int[] lengths, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<TrainingSequence> examples = new ArrayList<>();
        for (int length : lengths) {
            long[] ids = random.longs(length, 1, 128).toArray();
            boolean[] targets = new boolean[length];
            java.util.Arrays.fill(targets, Math.max(1, length / 2), length, true);
            examples.add(TrainingSequence.of(ids, targets));
        }
        return examples;
    }
}
