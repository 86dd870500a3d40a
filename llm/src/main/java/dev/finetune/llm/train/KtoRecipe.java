package dev.finetune.llm.train;

import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.LabelledCompletion;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Kahneman-Tversky optimisation on prompt / completion / label examples ({@link KtoStep}: TRL's KTO
 * loss against the policy's starting point as reference, a KL baseline from mismatched completions);
 * full fine-tuning, LoRA or QLoRA, run by the shared {@link TrainingLoop}.
 */
public final class KtoRecipe implements Recipe {
    private final TrainConfig config;
    private final TrainingLoop loop;

    private Tokenizer tokenizer;
    private List<LabelledCompletion> examples;
    private long padId;

    public KtoRecipe(TrainConfig config, TrainingListener listener) {
        this.config = config;
        this.loop = new TrainingLoop(config, listener);
    }

    @Override
    public void setup() throws IOException {
        tokenizer = Tokenizer.load(config.model());
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        KtoConfig kto = config.kto();
        examples = new ArrayList<>();
        for (ChatDatasets.Labelled example : ChatDatasets.labelled(config.trainFile())) {
            examples.add(encoder.labelled(
                    example.prompt(),
                    example.completion(),
                    example.desirable(),
                    kto.maxPromptLength(),
                    config.training().maxSeqLength()));
        }
        List<PreferencePair> items = withKlCompletions(
                examples, config.training().batchSize(), config.training().maxSeqLength());
        boolean[] desirable = new boolean[examples.size()];
        for (int i = 0; i < desirable.length; i++) {
            desirable[i] = examples.get(i).desirable();
        }
        TrainableModel model = loop.prepare(items.size(), fingerprint(items, desirable));
        padId = RecipeSupport.padId(tokenizer, model.model());
        KtoStep step = new KtoStep(
                model, items, desirable, padId, kto.loss(model.model().manager()));
        if (!loop.resume(step)) {
            step.precomputeReference(config.training().batchSize());
        }
    }

    /**
     * Each example as a pair of its own completion and its KL completion: TRL's {@code
     * _get_kl_dataset} over groups of {@code groupSize} examples in file order, where example i's KL
     * completion is the completion of example i - 1 of its group (the first takes the last's), cut to
     * fit after example i's prompt. A group of one is its own KL completion, as in TRL.
     */
    static List<PreferencePair> withKlCompletions(List<LabelledCompletion> examples, int groupSize, int maxLength) {
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

    private static String fingerprint(List<PreferencePair> items, boolean[] desirable) {
        DataFingerprint fingerprint = new DataFingerprint().add("kto");
        for (PreferencePair item : items) {
            fingerprint.add(item.prompt()).add(item.chosen()).add(item.rejected());
        }
        return fingerprint.add(desirable).hex();
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

    /** The tokenized training examples, in file order. */
    public List<LabelledCompletion> examples() {
        return examples;
    }

    /** The id that pads batches. */
    public long padId() {
        return padId;
    }

    @Override
    public void cleanup() {
        loop.close();
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
