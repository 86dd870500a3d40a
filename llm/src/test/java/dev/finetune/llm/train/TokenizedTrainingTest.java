package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.events.Objective;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pre-tokenized SFT rows (issue 18 item 5): the ids are trained as they are, with the loss where
 * completion_mask (TRL) or labels (HuggingFace) say. Rows made from the capitals conversations with
 * the model's chat template train exactly as the conversations do.
 */
class TokenizedTrainingTest {
    @TempDir
    Path dir;

    @Test
    void aTokenizedRowTrainsExactlyAsTheSameConversationRenderedThroughTheChatTemplate() throws IOException {
        Path model = TinyJob.learnable(dir.resolve("model"), 3);
        Path chat = TinyJob.jsonl(dir.resolve("chat.jsonl"), CapitalsTask.sftLines());
        Path masked = TinyJob.jsonl(dir.resolve("masked.jsonl"), tokenizedLines(model, chat, false));
        Path labelled = TinyJob.jsonl(dir.resolve("labelled.jsonl"), tokenizedLines(model, chat, true));

        Run fromText = train(model, chat, "text");
        Run fromMask = train(model, masked, "mask");
        Run fromLabels = train(model, labelled, "labels");

        assertThat(fromMask.items()).hasSameSizeAs(fromText.items()).isNotEmpty();
        for (int i = 0; i < fromText.items().size(); i++) {
            TrainingSequence text = fromText.items().get(i);
            for (Run tokenized : List.of(fromMask, fromLabels)) {
                assertThat(tokenized.items().get(i).ids()).as("row %d ids", i).containsExactly(text.ids());
                assertThat(tokenized.items().get(i).targets())
                        .as("row %d mask", i)
                        .containsExactly(text.targets());
            }
        }
        assertThat(fromMask.losses()).as("same losses, step by step").isEqualTo(fromText.losses());
        assertThat(fromLabels.losses()).isEqualTo(fromText.losses());
        double first = fromMask.losses().get(0);
        double last = fromMask
                .losses()
                .subList(fromMask.losses().size() - 5, fromMask.losses().size())
                .stream()
                .mapToDouble(Double::doubleValue)
                .average()
                .orElseThrow();
        System.out.printf("tokenized SFT: loss %.4f -> %.4f%n", first, last);
        assertThat(last).as("training on the rows lowers the loss").isLessThan(first / 2);
    }

    @Test
    void packedTokenizedRowsRespectMaxSeqLength() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 1);
        Path chat = TinyJob.jsonl(dir.resolve("chat.jsonl"), CapitalsTask.sftLines());
        Path masked = TinyJob.jsonl(dir.resolve("masked.jsonl"), tokenizedLines(model, chat, false));
        TrainConfig config = TrainConfig.of(model, masked, dir.resolve("out"), Method.FULL, Objective.SFT)
                .with(Settings.PACKING, true)
                .with(Settings.MAX_SEQ_LENGTH, 64);
        try (SftRecipe recipe = new SftRecipe(config, metrics -> {})) {
            recipe.setup();
            int examples = CapitalsTask.sftLines().size();
            assertThat(recipe.items()).as("several examples per row").hasSizeLessThan(examples * 3 / 4);
            assertThat(recipe.items())
                    .allSatisfy(row -> assertThat(row.length()).isLessThanOrEqualTo(64));
            long segments = recipe.items().stream()
                    .mapToLong(row ->
                            Arrays.stream(row.positions()).filter(p -> p == 0).count())
                    .sum();
            assertThat(segments).as("every example starts one packed segment").isEqualTo(examples);
        }
    }

    @Test
    void anIdOutsideTheModelsVocabularyIsRefusedWithLinePositionValueAndVocabSize() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 1);
        Path data = TinyJob.jsonl(
                dir.resolve("train.jsonl"),
                List.of(
                        "{\"input_ids\":[1,2,3],\"completion_mask\":[0,1,1]}",
                        "{\"input_ids\":[1,2,356,4],\"labels\":[-100,-100,356,4]}"));
        TrainConfig config = TrainConfig.of(model, data, dir.resolve("out"), Method.FULL, Objective.SFT);
        try (SftRecipe recipe = new SftRecipe(config, metrics -> {})) {
            assertThatThrownBy(recipe::setup)
                    .isInstanceOf(DatasetException.class)
                    .hasMessage(data + ":2: input_ids[2] = 356 is not a token of the model: its vocab_size is "
                            + TinyJob.VOCAB);
        }
    }

    /** The example file is what {@link ExampleDatasets#tokenized} makes, and trains as the capitals conversations. */
    @Test
    void theExampleTokenizedFileIsTheCapitalsConversationsThroughTheTinyTokenizer() throws IOException {
        Path example = ExampleDatasets.EXAMPLES.resolve(ExampleDatasets.TOKENIZED_FILE);
        assertThat(Files.readString(example)).isEqualTo(ExampleDatasets.tokenized());

        Path model = TinyJob.model(dir.resolve("model"), 1);
        Path chat = ExampleDatasets.EXAMPLES.resolve(ExampleDatasets.SFT_FILE);
        List<TrainingSequence> fromText = items(model, chat);
        List<TrainingSequence> fromRows = items(model, example);
        assertThat(fromRows).hasSameSizeAs(fromText);
        for (int i = 0; i < fromText.size(); i++) {
            assertThat(fromRows.get(i).ids()).containsExactly(fromText.get(i).ids());
            assertThat(fromRows.get(i).targets())
                    .containsExactly(fromText.get(i).targets());
        }
    }

    private List<TrainingSequence> items(Path model, Path data) throws IOException {
        TrainConfig config = TrainConfig.of(model, data, dir.resolve("out"), Method.FULL, Objective.SFT);
        try (SftRecipe recipe = new SftRecipe(config, metrics -> {})) {
            recipe.setup();
            return List.copyOf(recipe.items());
        }
    }

    private record Run(List<TrainingSequence> items, List<Double> losses) {}

    private Run train(Path model, Path data, String name) throws IOException {
        TrainConfig config = TrainConfig.of(model, data, dir.resolve("out-" + name), Method.FULL, Objective.SFT)
                .with(Settings.LEARNING_RATE, 1e-2)
                .with(Settings.NUM_TRAIN_EPOCHS, 4.0)
                .with(Settings.WARMUP_RATIO, 0.1);
        List<Double> losses = new ArrayList<>();
        try (SftRecipe recipe = new SftRecipe(config, metrics -> losses.add(metrics.loss()))) {
            recipe.setup();
            List<TrainingSequence> items = List.copyOf(recipe.items());
            recipe.train();
            return new Run(items, losses);
        }
    }

    /**
     * The conversations of {@code chat} as pre-tokenized rows, made with the model's tokenizer and
     * chat template (assistant turns trained): completion_mask rows, or HuggingFace labels rows.
     */
    static List<String> tokenizedLines(Path model, Path chat, boolean labels) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Tokenizer tokenizer = Tokenizer.load(model)) {
            ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
            for (var conversation : ChatDatasets.conversations(chat)) {
                TrainingSequence s =
                        encoder.sft(conversation, true, Integer.MAX_VALUE).orElseThrow();
                long[] marks = new long[s.length()];
                for (int t = 0; t < marks.length; t++) {
                    marks[t] = labels ? (s.targets()[t] ? s.ids()[t] : -100) : (s.targets()[t] ? 1 : 0);
                }
                lines.add(CapitalsTask.json(CapitalsTask.ordered(
                        "input_ids",
                        Arrays.stream(s.ids()).boxed().toList(),
                        labels ? "labels" : "completion_mask",
                        Arrays.stream(marks).boxed().toList())));
            }
        }
        return lines;
    }
}
