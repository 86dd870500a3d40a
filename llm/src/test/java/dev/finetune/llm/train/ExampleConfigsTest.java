package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.Objective;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.settings.Setting;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The example jobs in examples/ load, say what they claim, and their data is the generator's. */
class ExampleConfigsTest {
    private static final Path EXAMPLES = ExampleDatasets.EXAMPLES;

    @Test
    void theLoraSftExampleShowsEveryDefault() throws IOException {
        TrainConfig config = TrainConfigYaml.load(EXAMPLES.resolve("lora-sft.yaml"));
        TrainConfig defaults =
                TrainConfig.of(config.model(), config.trainFile(), config.outputDir(), Method.LORA, Objective.SFT);

        assertThat(config.settings().toPlainMap().keySet())
                .as("the example lists every setting")
                .containsExactlyElementsOf(
                        Settings.CATALOG.all().stream().map(Setting::name).toList());
        for (Setting<?> setting : Settings.CATALOG.all()) {
            assertThat(config.setting(setting)).as(setting.name()).isEqualTo(defaults.setting(setting));
        }
        assertThat(config.model()).isEqualTo(EXAMPLES.toAbsolutePath().resolve("models/tiny-llama"));
        assertThat(config.trainFile()).isEqualTo(EXAMPLES.toAbsolutePath().resolve(ExampleDatasets.SFT_FILE));
    }

    @Test
    void everyExampleJobLoadsWithItsMethodAndObjective() throws IOException {
        TrainConfig qlora = TrainConfigYaml.load(EXAMPLES.resolve("qlora-sft.yaml"));
        assertThat(qlora.method()).isEqualTo(Method.QLORA);
        assertThat(qlora.sft().packing()).isTrue();
        assertThat(qlora.lora().targetModules()).containsExactly(LoraConfig.ALL_LINEAR);
        assertThat(qlora.training().gradientAccumulationSteps()).isEqualTo(2);

        TrainConfig continued = TrainConfigYaml.load(EXAMPLES.resolve("lora-sft-continued.yaml"));
        assertThat(continued.method()).isEqualTo(Method.LORA);
        assertThat(continued.initAdapter())
                .contains(
                        EXAMPLES.toAbsolutePath().resolve("runs/lora-sft/final").toString());

        TrainConfig full = TrainConfigYaml.load(EXAMPLES.resolve("full-sft.yaml"));
        assertThat(full.method()).isEqualTo(Method.FULL);
        assertThat(full.training().learningRate()).isEqualTo(Method.FULL.defaultLearningRate());
        assertThat(full.training().saveTotalLimit()).isEqualTo(2);

        TrainConfig dpo = TrainConfigYaml.load(EXAMPLES.resolve("lora-dpo.yaml"));
        assertThat(dpo.objective()).isEqualTo(Objective.DPO);
        assertThat(dpo.dpo()).isEqualTo(DpoConfig.defaults());
        assertThat(dpo.trainFile()).isEqualTo(EXAMPLES.toAbsolutePath().resolve(ExampleDatasets.DPO_FILE));

        TrainConfig orpo = TrainConfigYaml.load(EXAMPLES.resolve("lora-orpo.yaml"));
        assertThat(orpo.objective()).isEqualTo(Objective.ORPO);
        assertThat(orpo.setting(Settings.BETA)).isEqualTo(0.1);
        assertThat(orpo.trainFile()).isEqualTo(dpo.trainFile());

        TrainConfig reward = TrainConfigYaml.load(EXAMPLES.resolve("lora-reward.yaml"));
        assertThat(reward.objective()).isEqualTo(Objective.REWARD);
        assertThat(reward.method()).isEqualTo(Method.LORA);
        assertThat(reward.setting(Settings.CENTER_REWARDS_COEFFICIENT)).isEqualTo(0.01);
        assertThat(reward.lora().targetModules()).containsExactly(LoraConfig.ALL_LINEAR);
        assertThat(reward.trainFile()).isEqualTo(dpo.trainFile());

        TrainConfig kto = TrainConfigYaml.load(EXAMPLES.resolve("lora-kto.yaml"));
        assertThat(kto.objective()).isEqualTo(Objective.KTO);
        assertThat(kto.kto()).isEqualTo(new KtoConfig(0.1, 1.0, 1.0));
        assertThat(kto.trainFile()).isEqualTo(EXAMPLES.toAbsolutePath().resolve(ExampleDatasets.KTO_FILE));

        TrainConfig ppo = TrainConfigYaml.load(EXAMPLES.resolve("lora-ppo.yaml"));
        assertThat(ppo.objective()).isEqualTo(Objective.PPO);
        assertThat(ppo.method()).isEqualTo(Method.LORA);
        assertThat(ppo.ppo().updatesPerRollout()).isEqualTo(4);
        assertThat(ppo.ppo().rewards().functions()).hasSize(2);
        assertThat(ppo.ppo().temperature()).isEqualTo(0.7);
    }

    @Test
    void committedExampleDatasetsAreWhatTheGeneratorWritesAndParse() throws IOException {
        assertThat(Files.readString(EXAMPLES.resolve(ExampleDatasets.SFT_FILE))).isEqualTo(ExampleDatasets.sft());
        assertThat(Files.readString(EXAMPLES.resolve(ExampleDatasets.DPO_FILE))).isEqualTo(ExampleDatasets.dpo());
        assertThat(Files.readString(EXAMPLES.resolve(ExampleDatasets.KTO_FILE))).isEqualTo(ExampleDatasets.kto());
        assertThat(ChatDatasets.labelled(EXAMPLES.resolve(ExampleDatasets.KTO_FILE)))
                .hasSize(32);
        assertThat(ChatDatasets.conversations(EXAMPLES.resolve(ExampleDatasets.SFT_FILE)))
                .hasSize(48);
        assertThat(ChatDatasets.preferences(EXAMPLES.resolve(ExampleDatasets.DPO_FILE)))
                .hasSize(32);
    }
}
