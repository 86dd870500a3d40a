package dev.finetune.llm.train;

import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Direct preference optimisation on prompt / chosen / rejected conversations ({@link DpoStep}: the
 * job's loss_type against the policy's starting point as reference, TRL's reward metrics); full
 * fine-tuning, LoRA or QLoRA, run by the shared {@link TrainingLoop}.
 */
public final class DpoRecipe implements Recipe {
    private final TrainConfig config;
    private final TrainingLoop loop;

    private Tokenizer tokenizer;
    private List<PreferencePair> pairs;
    private long padId;

    public DpoRecipe(TrainConfig config, TrainingListener listener) {
        this.config = config;
        this.loop = new TrainingLoop(config, listener);
    }

    @Override
    public void setup() throws IOException {
        tokenizer = Tokenizer.load(config.model());
        pairs = encode(ChatDatasets.preferences(config.trainFile()));
        TrainableModel model = loop.prepare(pairs.size(), fingerprint());
        padId = RecipeSupport.padId(tokenizer, model.model());
        List<PreferencePair> validation =
                RecipeSupport.validation(config, file -> encode(ChatDatasets.preferences(file)));
        DpoStep step = new DpoStep(
                model, pairs, padId, config.dpo(), validation, config.training().batchSize());
        if (!loop.resume(step)) {
            step.precomputeReference(config.training().batchSize());
        }
    }

    private List<PreferencePair> encode(List<ChatDatasets.Preference> preferences) {
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        List<PreferencePair> encoded = new ArrayList<>();
        for (ChatDatasets.Preference preference : preferences) {
            encoded.add(encoder.preference(
                    preference.prompt(),
                    preference.chosen(),
                    preference.rejected(),
                    config.dpo().maxPromptLength(),
                    config.training().maxSeqLength()));
        }
        return encoded;
    }

    private String fingerprint() {
        DataFingerprint fingerprint = new DataFingerprint().add("dpo");
        for (PreferencePair pair : pairs) {
            fingerprint.add(pair.prompt()).add(pair.chosen()).add(pair.rejected());
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

    /** The tokenized training pairs. */
    public List<PreferencePair> pairs() {
        return pairs;
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
