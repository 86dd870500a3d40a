package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.inference.RewardModel;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.rewards.Completion;
import dev.finetune.llm.rewards.Rewards;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trained reward model as one of GRPO's reward_funcs ({@code model:<directory>}): it scores prompt and
 * completion as {@link RewardModel#scores} does, for a sequence classifier and for a SEQ_CLS adapter on
 * the policy's base, weighted with rule rewards; a GRPO run rewards its completions with it.
 */
class RewardModelRewardTest {
    @TempDir
    Path dir;

    @Test
    void aRewardModelRewardScoresPromptAndCompletionAsTheRewardModelDoes() throws IOException {
        Path policy = TinyJob.model(dir.resolve("policy"), 3);
        Path classifier = sequenceClassifier(policy, dir.resolve("classifier"));
        Path adapter = seqClsAdapter(policy, dir.resolve("adapter"));
        List<Completion> completions = List.of(
                new Completion(new long[] {5, 6, 7}, new long[] {40, 41}, "ab", Optional.empty()),
                new Completion(new long[] {5, 6, 7}, new long[] {90}, "c", Optional.empty()),
                new Completion(new long[] {8}, new long[] {12, 13, 14, 15}, "defg", Optional.empty()));
        List<long[]> sequences =
                List.of(new long[] {5, 6, 7, 40, 41}, new long[] {5, 6, 7, 90}, new long[] {8, 12, 13, 14, 15});

        double[] classifierScores;
        try (RewardModel model = RewardModel.load(classifier)) {
            classifierScores = model.scores(sequences, 1);
        }
        double[] adapterScores;
        try (RewardModel model = RewardModel.load(policy, adapter)) {
            adapterScores = model.scores(sequences, 1);
        }
        assertThat(classifierScores[0])
                .as("the sequences score differently")
                .isNotCloseTo(classifierScores[1], within(1e-6));

        Rewards.Scores scores;
        try (Rewards rewards = Rewards.parse(
                        Objective.GRPO,
                        List.of("model:" + classifier, "length:2", "model:" + adapter),
                        List.of(0.5, 2.0, -1.0))
                .load(policy)) {
            scores = rewards.score(completions);
        }
        assertThat(scores.perFunction().get("model:" + classifier)).containsExactly(classifierScores, within(1e-5));
        assertThat(scores.perFunction().get("model:" + adapter)).containsExactly(adapterScores, within(1e-5));
        double[] length = {0, -0.5, -1};
        for (int i = 0; i < completions.size(); i++) {
            assertThat(scores.total()[i])
                    .as("weighted sum of completion " + i)
                    .isCloseTo(0.5 * classifierScores[i] + 2 * length[i] - adapterScores[i], within(1e-5));
        }
    }

    @Test
    void aLanguageModelOrAnotherTokenizerIsRefusedNamingTheFile() throws IOException {
        Path policy = TinyJob.model(dir.resolve("policy"), 3);
        assertThatThrownBy(() -> Rewards.parse(Objective.GRPO, List.of("model:" + policy), List.of())
                        .load(policy))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContainingAll("score.weight", "not a reward model");
        Path classifier = sequenceClassifier(policy, dir.resolve("classifier"));
        Files.writeString(
                classifier.resolve("tokenizer.json"), Files.readString(classifier.resolve("tokenizer.json")) + " ");
        assertThatThrownBy(() -> Rewards.parse(Objective.GRPO, List.of("model:" + classifier), List.of())
                        .load(policy))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContainingAll(classifier.resolve("tokenizer.json").toString(), "differs from the policy's");
        assertThatThrownBy(() -> Rewards.parse(Objective.GRPO, List.of("model: "), List.of()))
                .hasMessage("reward_funcs[0] \"model: \" names no reward model: use model:<directory>");
    }

    /** Two GRPO steps whose reward is a reward model plus a rule: the reported reward is their weighted sum. */
    @Test
    void grpoRunsWithARewardModelAmongItsRewards() throws IOException {
        Run run = trainWithModelAndRule(
                "grpo",
                Objective.GRPO,
                SettingValues.none()
                        .with(Settings.NUM_GENERATIONS, 4)
                        .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 8)
                        .with(Settings.MAX_COMPLETION_LENGTH, 4));
        for (StepMetrics step : run.steps()) {
            assertThat(step.objectiveMetrics().get("reward")).isCloseTo(run.weightedSum(step), within(1e-6));
        }
    }

    /** Two PPO steps on one rollout batch scored by a reward model plus a rule: the score is their weighted sum. */
    @Test
    void ppoRunsWithARewardModelAmongItsRewards() throws IOException {
        Run run = trainWithModelAndRule(
                "ppo",
                Objective.PPO,
                SettingValues.none()
                        .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                        .with(Settings.RESPONSE_LENGTH, 4)
                        .with(Settings.NUM_PPO_EPOCHS, 2));
        for (StepMetrics step : run.steps()) {
            assertThat(step.objectiveMetrics().get("objective/scores")).isCloseTo(run.weightedSum(step), within(1e-6));
        }
    }

    private static final String RULE = "regex:[0-9]";

    /** A run's step metrics and the reward_funcs entry of its reward model. */
    private record Run(List<StepMetrics> steps, String modelReward) {
        /** 100 x the reward model's mean + the rule's mean, as the step reports them; the model's is not 0. */
        double weightedSum(StepMetrics step) {
            double fromModel = step.objectiveMetrics().get("rewards/" + modelReward + "/mean");
            assertThat(fromModel).isNotZero();
            return 100 * fromModel + step.objectiveMetrics().get("rewards/" + RULE + "/mean");
        }
    }

    /**
     * Two steps of {@code objective} over four prompts, rewarded by a reward model (weight 100, so that
     * it dominates) and {@link #RULE} (weight 1), in {@code dir/name}.
     */
    private Run trainWithModelAndRule(String name, Objective objective, SettingValues settings) throws IOException {
        Path home = dir.resolve(name);
        Path policy = TinyJob.model(home.resolve("policy"), 3);
        String modelReward = "model:" + sequenceClassifier(policy, home.resolve("classifier"));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            lines.add(CapitalsTask.json(CapitalsTask.ordered("prompt", "Write a number, " + i)));
        }
        Path data = TinyJob.jsonl(home.resolve("prompts.jsonl"), lines);
        SettingValues withRewards = settings.with(Settings.REWARD_FUNCS, List.of(modelReward, RULE))
                .with(Settings.REWARD_WEIGHTS, List.of(100.0, 1.0))
                .with(Settings.MAX_STEPS, 2);
        TrainConfig config =
                new TrainConfig(policy, data, null, home.resolve("out"), Method.LORA, objective, true, withRewards);
        List<StepMetrics> steps = new ArrayList<>();
        try (Recipe recipe = Recipes.create(config, steps::add)) {
            recipe.setup();
            recipe.train();
        }
        assertThat(steps).hasSize(2);
        return new Run(steps, modelReward);
    }

    /** The policy with a score head (seed 7) saved as a HF sequence classifier, with the policy's tokenizer. */
    static Path sequenceClassifier(Path policy, Path directory) throws IOException {
        try (CausalLm model = CausalLm.load(policy)) {
            model.attachScoreHead(0, 7);
            model.save(directory, DType.F32);
        }
        try (Stream<Path> files = Files.list(policy)) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("tokenizer"))
                    .toList()) {
                Files.copy(file, directory.resolve(file.getFileName()));
            }
        }
        return directory;
    }

    /** A reward model's PEFT SEQ_CLS adapter on the policy (LoRA on every linear, a score head of seed 9). */
    static Path seqClsAdapter(Path policy, Path directory) throws IOException {
        CausalLm model = CausalLm.load(policy);
        model.attachScoreHead(0, 9);
        Adapters adapters = Adapters.apply(model, LoraConfig.defaults(), 11);
        try (CausalLm ignored = adapters.model()) {
            PeftAdapter.save(adapters, directory, policy.toString());
        }
        return directory;
    }
}
