package dev.finetune.llm.train;

import dev.finetune.llm.model.ValueHead;
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
 * Proximal policy optimisation on prompts ({@link ChatDatasets#prompts}), TRL's {@code PPOTrainer}: each
 * prompt rendered with the chat template and its generation prompt; the policy is the model with LoRA or
 * QLoRA adapters (or fully fine-tuned with kl_coef 0), the reference the same weights with the adapters
 * off, and a value head ({@link ValueHead}) on the policy's hidden states is trained with it and kept in
 * each checkpoint. {@link PpoStep} samples, rewards and optimises; the shared {@link TrainingLoop} runs the
 * optimizer steps (num_ppo_epochs x num_mini_batches per rollout batch, see {@link PpoConfig#plan}). The
 * exported result is the policy's adapter (or model); the value head stays in the checkpoints.
 */
public final class PpoRecipe implements Recipe {
    private final TrainConfig config;
    private final TrainingLoop loop;

    private Tokenizer tokenizer;
    private List<Rollouts.Prompt> prompts;
    private Rewards rewards; // with its reward models loaded: closed in cleanup

    public PpoRecipe(TrainConfig config, TrainingListener listener) {
        this.config = config;
        this.loop = new TrainingLoop(config, listener);
    }

    @Override
    public void setup() throws IOException {
        tokenizer = Tokenizer.load(config.model());
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        PpoConfig ppo = config.ppo();
        prompts = Rollouts.Prompt.read(encoder, config.trainFile(), ppo.rewards(), ppo.maxPromptLength());
        List<Rollouts.Prompt> validation = RecipeSupport.validation(
                config, file -> Rollouts.Prompt.read(encoder, file, ppo.rewards(), ppo.maxPromptLength()));
        TrainingArguments arguments = config.training();
        BatchPlan plan = ppo.plan(prompts.size(), arguments);
        long headSeed = new SplittableRandom(arguments.seed()).split().nextLong();
        TrainableModel model = loop.prepare(
                plan,
                Rollouts.Prompt.fingerprint(config.objective(), prompts),
                trainable -> trainable.attachValueHead(new ValueHead(trainable.model(), headSeed)));
        rewards = ppo.rewards().load(config.model());
        Set<Long> stops = new TreeSet<>();
        tokenizer.specialTokens().stopIds().forEach(id -> stops.add((long) id));
        model.model().config().eosTokenIds().forEach(id -> stops.add((long) id));
        loop.resume(new PpoStep(
                model,
                tokenizer,
                prompts,
                validation,
                ppo,
                rewards,
                stops,
                RecipeSupport.padId(tokenizer, model.model()),
                arguments.seed(),
                plan,
                arguments.batchSize()));
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
