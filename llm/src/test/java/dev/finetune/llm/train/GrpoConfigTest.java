package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.events.Objective;
import dev.finetune.llm.objective.DpoLossType;
import dev.finetune.llm.objective.GrpoLossType;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GRPO's settings: TRL's GRPOConfig names, one declaration of beta and loss_type shared with DPO whose
 * default and rule depend on the objective, and the job's rewards and batch checked before training.
 */
class GrpoConfigTest {
    private static final String GRPO = "model: m\ntrain_file: d.jsonl\noutput_dir: out\nobjective: grpo\n";
    private static final String DPO = "model: m\ntrain_file: d.jsonl\noutput_dir: out\nobjective: dpo\n";
    private static final String REWARDS = "reward_funcs: [exact_match, 'regex:^\\d+$', 'length:20']\n";

    @TempDir
    Path dir;

    @Test
    void grpoSettingsAreReadWithTrlsNamesAndGrpoDefaults() throws IOException {
        GrpoConfig defaults = load(GRPO + REWARDS).grpo();
        assertThat(defaults.numGenerations()).isEqualTo(8);
        assertThat(defaults.maxCompletionLength()).isEqualTo(256);
        assertThat(defaults.beta()).as("grpo's beta").isEqualTo(0.04);
        assertThat(defaults.lossType()).isEqualTo(GrpoLossType.DAPO);
        assertThat(defaults.epsilonHigh()).as("epsilon_high unset: epsilon").isEqualTo(0.2);
        assertThat(defaults.scaleRewards()).isTrue();
        assertThat(defaults.rewardFuncs()).containsExactly("exact_match", "regex:^\\d+$", "length:20");

        TrainConfig config = load(
                GRPO + REWARDS
                        + """
                num_generations: 4
                per_device_train_batch_size: 8
                max_completion_length: 32
                temperature: 0.7
                top_p: 0.9
                top_k: 50
                beta: 0
                epsilon: 0.1
                epsilon_high: 0.28
                scale_rewards: false
                loss_type: dr_grpo
                reward_weights: [1, 0.5, 0.1]
                """);
        GrpoConfig grpo = config.grpo();
        assertThat(grpo.beta()).as("grpo may turn the KL term off").isZero();
        assertThat(config.setting(Settings.BETA)).isZero();
        assertThat(grpo.lossType()).isEqualTo(GrpoLossType.DR_GRPO);
        assertThat(grpo.epsilonHigh()).isEqualTo(0.28);
        assertThat(grpo.rewardWeights()).containsExactly(1.0, 0.5, 0.1);
        assertThat(grpo.generation(7, java.util.Set.of(3L)).numReturnSequences())
                .isEqualTo(4);
        assertThat(grpo.generation(7, java.util.Set.of(3L)).topK()).isEqualTo(50);
    }

    @Test
    void betaAndLossTypeKeepTheirDpoDefaultsAndRulesForDpo() throws IOException {
        TrainConfig dpo = load(DPO);
        assertThat(dpo.setting(Settings.BETA)).isEqualTo(0.1);
        assertThat(dpo.dpo().lossType()).isEqualTo(DpoLossType.SIGMOID);
        assertThatThrownBy(() -> load(DPO + "beta: 0\n"))
                .isInstanceOf(TrainConfigException.class)
                .hasMessageEndingWith("job.yaml: beta must be > 0 and <= 1000 with objective dpo, got 0");
        assertThatThrownBy(() -> load(DPO + "loss_type: dapo\n"))
                .hasMessageEndingWith(
                        "job.yaml: loss_type must be one of sigmoid, robust, hinge, ipo with objective dpo, got \"dapo\"");
        assertThatThrownBy(() -> load(GRPO + REWARDS + "loss_type: sigmoid\n"))
                .hasMessageEndingWith(
                        "job.yaml: loss_type must be one of grpo, bnpo, dr_grpo, dapo with objective grpo, got \"sigmoid\"");
        assertThatThrownBy(() -> load(GRPO + REWARDS + "loss_type: kto_pair\n"))
                .hasMessageEndingWith("job.yaml: loss_type must be one of grpo, bnpo, dr_grpo, dapo, got \"kto_pair\"");
        assertThatThrownBy(() -> load(GRPO + REWARDS + "beta: -1\n"))
                .hasMessageEndingWith("job.yaml: beta must be in [0, 1000], got -1");
    }

    /** A job request is read before its objective is known (the services): any objective's value passes, then its own rule decides. */
    @Test
    void valuesReadWithoutTheObjectiveAreCheckedByTheJobsObjective() {
        SettingValues values =
                SettingValues.read(Map.of("beta", 0, "loss_type", "bnpo", "reward_funcs", "exact_match"));
        TrainConfig.checkObjective(Objective.GRPO, Method.LORA, values);
        assertThatThrownBy(() -> TrainConfig.checkObjective(Objective.DPO, Method.LORA, values))
                .isInstanceOf(SettingException.class)
                .hasMessage("beta must be > 0 and <= 1000 with objective dpo, got 0");
        assertThatThrownBy(() -> SettingValues.read(Map.of("beta", -1)))
                .hasMessage("beta must be > 0 and <= 1000, got -1");
        assertThat(Settings.BETA.defaultText()).isEqualTo("0.1; 0.04 for grpo");
        assertThat(Settings.LOSS_TYPE.ruleText())
                .isEqualTo("one of sigmoid, robust, hinge, ipo; one of grpo, bnpo, dr_grpo, dapo for grpo");
    }

    @Test
    void badGrpoJobsAreRefusedNamingTheSettingAndValue() throws IOException {
        assertThatThrownBy(() -> load(GRPO))
                .hasMessageEndingWith("job.yaml: reward_funcs is required with objective grpo: name at least one of"
                        + " exact_match, regex:<pattern>, length:<tokens>, model:<reward model directory>");
        assertThatThrownBy(() -> load(GRPO + "reward_funcs: ['regex:(']\n"))
                .hasMessageContaining("job.yaml: reward_funcs[0] \"regex:(\" is not a valid regular expression");
        assertThatThrownBy(() -> load(GRPO + "reward_funcs: [bleu]\n"))
                .hasMessageContaining("job.yaml: reward_funcs[0] \"bleu\" is not a reward function");
        assertThatThrownBy(() -> load(GRPO + REWARDS + "reward_weights: [1, 2]\n"))
                .hasMessageContaining("job.yaml: reward_weights has 2 weights for 3 reward_funcs");
        assertThatThrownBy(() -> load(GRPO + REWARDS + "num_generations: 3\n"))
                .hasMessageContaining("job.yaml: per_device_train_batch_size 8 must be a multiple of num_generations 3"
                        + " with objective grpo");
        assertThatThrownBy(() -> load(GRPO + REWARDS + "num_generations: 1\n"))
                .hasMessageEndingWith("job.yaml: num_generations must be in [2, 4096], got 1");
        assertThatThrownBy(() -> load(GRPO + REWARDS + "num_iterations: 0\n"))
                .hasMessageEndingWith("job.yaml: num_iterations must be in [1, 1024], got 0");
        assertThatThrownBy(() -> load(GRPO + REWARDS + "method: full\n"))
                .hasMessageContaining("job.yaml: beta 0.04 cannot be used with objective grpo and method full");
        assertThat(load(GRPO + REWARDS + "method: full\nbeta: 0\n").grpo().beta())
                .isZero();
        assertThatThrownBy(() -> load(DPO + "reward_funcs: [exact_match]\n"))
                .hasMessageEndingWith("job.yaml: reward_funcs cannot be used with objective dpo: rewards of generated"
                        + " completions apply to ppo and grpo");
        assertThatThrownBy(() -> load(GRPO + REWARDS + "precompute_ref_log_probs: true\n"))
                .hasMessageContaining("precompute_ref_log_probs cannot be used with objective grpo");
        assertThatThrownBy(() -> load(GRPO + REWARDS + "eval_strategy: steps\n"))
                .hasMessageContaining("metric_for_best_model eval_loss cannot be used with objective grpo");
        assertThat(load(GRPO + REWARDS + "eval_strategy: steps\nmetric_for_best_model: reward\n")
                        .evaluation()
                        .greaterIsBetter())
                .isTrue();
    }

    @Test
    void theGrpoExampleLoadsAndEachOfItsPromptsHasAReference() throws IOException {
        TrainConfig example = TrainConfigYaml.load(ExampleDatasets.EXAMPLES.resolve("lora-grpo.yaml"));
        assertThat(example.objective()).isEqualTo(Objective.GRPO);
        assertThat(example.grpo().rewards().needsReference()).isTrue();
        assertThat(example.grpo().rewardWeights()).containsExactly(1.0, 0.5, 0.1);
        List<ChatDatasets.Prompt> prompts = ChatDatasets.prompts(example.trainFile());
        assertThat(prompts).hasSize(32).allSatisfy(p -> assertThat(p.reference())
                .isPresent());
    }

    private TrainConfig load(String yaml) throws IOException {
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, yaml);
        return TrainConfigYaml.load(file);
    }
}
