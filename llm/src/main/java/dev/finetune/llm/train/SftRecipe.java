package dev.finetune.llm.train;

import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.Packing;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Supervised fine-tuning: conversations rendered with the model's chat template, loss on the
 * assistant's tokens ({@link SftStep}), optionally packed; full fine-tuning, LoRA or QLoRA, run by
 * the shared {@link TrainingLoop}.
 */
public final class SftRecipe implements Recipe {
    private final TrainConfig config;
    private final TrainingLoop loop;

    private Tokenizer tokenizer;
    private List<TrainingSequence> items;

    public SftRecipe(TrainConfig config, TrainingListener listener) {
        this.config = config;
        this.loop = new TrainingLoop(config, listener);
    }

    @Override
    public void setup() throws IOException {
        tokenizer = Tokenizer.load(config.model());
        int vocabSize = ModelConfigJson.read(config.model().resolve(ModelConfigJson.FILE_NAME))
                .vocabSize();
        items = read(config.trainFile(), vocabSize, config.sft().packing());
        List<TrainingSequence> validation = RecipeSupport.validation(config, file -> read(file, vocabSize, false));
        TrainableModel model = loop.prepare(items.size(), fingerprint());
        loop.resume(new SftStep(
                items,
                RecipeSupport.padId(tokenizer, model.model()),
                config.sft().packing(),
                validation,
                config.training().batchSize()));
    }

    /**
     * A file's examples as training sequences: pre-tokenized rows as they are (no chat template, no
     * tokenizer; their ids checked against {@code vocabSize}), conversations rendered with the chat
     * template. Both are cut to max_seq_length and packed alike.
     */
    private List<TrainingSequence> read(Path file, int vocabSize, boolean packing) throws IOException {
        if (!ChatDatasets.isTokenized(file)) {
            return encode(load(file), packing);
        }
        int maxLength = config.training().maxSeqLength();
        List<TrainingSequence> sequences = new ArrayList<>();
        for (ChatDatasets.Tokenized example : ChatDatasets.tokenized(file, vocabSize)) {
            example.sequence(maxLength).ifPresent(sequences::add);
        }
        return packing ? Packing.pack(sequences, maxLength) : sequences;
    }

    /** The file's conversations, refused if they use tools the model's chat template cannot render. */
    private List<ChatDatasets.Conversation> load(Path file) throws IOException {
        List<ChatDatasets.Conversation> conversations = ChatDatasets.supervised(file);
        ToolUse.requireRenderable(tokenizer, file, conversations);
        return conversations;
    }

    /** Tokenized examples, or packed rows of them; examples with nothing to learn are dropped. */
    private List<TrainingSequence> encode(List<ChatDatasets.Conversation> conversations, boolean packing) {
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        int maxLength = config.training().maxSeqLength();
        List<TrainingSequence> sequences = new ArrayList<>();
        for (ChatDatasets.Conversation conversation : conversations) {
            encoder.withTools(conversation.tools())
                    .sft(conversation.messages(), config.sft().assistantOnlyLoss(), maxLength)
                    .ifPresent(sequences::add);
        }
        return packing ? Packing.pack(sequences, maxLength) : sequences;
    }

    private String fingerprint() {
        DataFingerprint fingerprint = new DataFingerprint().add(config.sft().packing() ? "packed" : "padded");
        for (TrainingSequence item : items) {
            fingerprint.add(item.ids()).add(item.positions()).add(item.targets());
        }
        return fingerprint.hex();
    }

    @Override
    public TrainResult train() throws IOException {
        return loop.run();
    }

    @Override
    public Path saveCheckpoint() throws IOException {
        return loop.saveCheckpoint();
    }

    @Override
    public void requestStop() {
        loop.requestStop();
    }

    @Override
    public TrainableModel model() {
        return loop.model();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public BatchPlan plan() {
        return loop.plan();
    }

    /** The training items: tokenized examples, or packed rows. */
    public List<TrainingSequence> items() {
        return items;
    }

    @Override
    public void cleanup() {
        loop.close();
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
