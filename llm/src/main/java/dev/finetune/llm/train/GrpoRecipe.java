package dev.finetune.llm.train;

import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.rewards.Rewards;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Group relative policy optimisation on prompts ({@link ChatDatasets#prompts}): each prompt rendered
 * with the chat template and its generation prompt, completions sampled and rewarded at each step
 * ({@link GrpoStep}); LoRA or QLoRA (reference = adapters off), or full fine-tuning with beta 0 (no
 * reference), run by the shared {@link TrainingLoop}. A micro-batch holds per_device_train_batch_size
 * completions: per_device_train_batch_size / num_generations prompts.
 */
public final class GrpoRecipe implements Recipe {
    private final TrainConfig config;
    private final TrainingLoop loop;

    private Tokenizer tokenizer;
    private List<Rollouts.Prompt> prompts;
    private Rewards rewards; // with its reward models loaded: closed in cleanup

    public GrpoRecipe(TrainConfig config, TrainingListener listener) {
        this.config = config;
        this.loop = new TrainingLoop(config, listener);
    }

    @Override
    public void setup() throws IOException {
        tokenizer = Tokenizer.load(config.model());
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        GrpoConfig grpo = config.grpo();
        prompts = encode(encoder, config.trainFile());
        List<Rollouts.Prompt> validation = RecipeSupport.validation(config, file -> encode(encoder, file));
        int promptsPerBatch = grpo.promptsPerBatch(config.training().batchSize());
        TrainableModel model = loop.prepare(prompts.size(), promptsPerBatch, fingerprint());
        rewards = grpo.rewards().load(config.model());
        Set<Long> stops = new TreeSet<>();
        tokenizer.specialTokens().stopIds().forEach(id -> stops.add((long) id));
        model.model().config().eosTokenIds().forEach(id -> stops.add((long) id));
        long evalSeed = new SplittableRandom(config.training().seed()).nextLong();
        loop.resume(new GrpoStep(
                model,
                tokenizer,
                prompts,
                validation,
                grpo,
                rewards,
                stops,
                RecipeSupport.padId(tokenizer, model.model()),
                evalSeed,
                config.training().batchSize()));
    }

    /**
     * The prompts of {@code file}, rendered with the generation prompt and cut to max_prompt_length;
     * refused at the first line without a reference if a reward compares with references.
     */
    private List<Rollouts.Prompt> encode(ChatEncoder encoder, Path file) throws IOException {
        boolean needsReference = config.grpo().rewards().needsReference();
        int maxPromptLength = config.grpo().maxPromptLength();
        List<Rollouts.Prompt> encoded = new ArrayList<>();
        for (ChatDatasets.Prompt prompt : ChatDatasets.prompts(file)) {
            if (needsReference && prompt.reference().isEmpty()) {
                throw new DatasetException(
                        file,
                        prompt.line(),
                        "reward_funcs has exact_match, which compares each"
                                + " completion with its prompt's 'reference', and this prompt has none");
            }
            encoded.add(new Rollouts.Prompt(
                    encoder.generationPrompt(prompt.prompt(), maxPromptLength), prompt.reference()));
        }
        return encoded;
    }

    private String fingerprint() {
        DataFingerprint fingerprint =
                new DataFingerprint().add(config.objective().code());
        for (Rollouts.Prompt prompt : prompts) {
            fingerprint.add(prompt.tokens()).add(prompt.reference().orElse(""));
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

    @Override
    public void cleanup() {
        loop.close();
        if (rewards != null) {
            rewards.close();
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
