package dev.finetune.llm.train;

import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.rewards.Rewards;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
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
 * completions: per_device_train_batch_size / num_generations prompts; each step's completions are
 * optimised num_iterations times ({@link GrpoConfig#plan}).
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
        prompts = Rollouts.Prompt.read(encoder, config.trainFile(), grpo.rewards(), grpo.maxPromptLength());
        List<Rollouts.Prompt> validation = RecipeSupport.validation(
                config, file -> Rollouts.Prompt.read(encoder, file, grpo.rewards(), grpo.maxPromptLength()));
        String fingerprint = Rollouts.Prompt.fingerprint(config.objective(), prompts);
        if (grpo.numIterations() > 1) {
            fingerprint += " num_iterations " + grpo.numIterations(); // another step count per generation
        }
        TrainableModel model = loop.prepare(grpo.plan(prompts.size(), config.training()), fingerprint, loaded -> {});
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
