package dev.finetune.llm.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.optim.ScheduleType;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.TrainConfig;
import dev.finetune.llm.train.TrainConfigYaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one declaration of each setting drives every surface: YAML, JSON, --set, messages, the README. */
class SettingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void everyDefaultFollowsItsOwnRuleAndSurvivesTheWire() throws IOException {
        for (Setting<?> setting : Settings.CATALOG.all()) {
            for (Method method : Method.values()) {
                assertRoundTrip(setting, method);
            }
        }
    }

    private static <T> void assertRoundTrip(Setting<T> setting, Method method) throws IOException {
        T value = setting.defaultFor(method);
        assertThat(setting.check(value)).as(setting.name()).isEqualTo(value);
        SettingValues set = SettingValues.none().with(setting, value);
        String json = JSON.writeValueAsString(set.toPlainMap());
        @SuppressWarnings("unchecked")
        Map<String, Object> back = JSON.readValue(json, Map.class);
        assertThat(SettingValues.read(back).get(setting, method))
                .as(setting.name() + " via " + json)
                .isEqualTo(value);
    }

    @Test
    void documentValuesAndTypedTextMeanTheSame() {
        SettingValues fromJson = SettingValues.read(Map.of(
                "learning_rate",
                2e-4,
                "lora_alpha",
                32.0,
                "lr_scheduler_type",
                "cosine",
                "packing",
                true,
                "lora_target_modules",
                List.of("q_proj", "v_proj")));
        SettingValues fromText = SettingValues.readAssignments(
                List.of(
                        "learning_rate=2e-4",
                        "lora_alpha=32",
                        "lr_scheduler_type=COSINE",
                        "packing=true",
                        "lora_target_modules=q_proj,v_proj"),
                Settings.CATALOG);

        assertThat(fromText).isEqualTo(fromJson);
        assertThat(fromJson.get(Settings.LORA_ALPHA, Method.LORA)).isEqualTo(32.0);
        assertThat(fromJson.get(Settings.LR_SCHEDULER_TYPE, Method.LORA)).isEqualTo(ScheduleType.COSINE);
        assertThat(fromJson.get(Settings.LEARNING_RATE, Method.FULL))
                .as("explicit beats the method's default")
                .isEqualTo(2e-4);
        assertThat(SettingValues.none().get(Settings.LEARNING_RATE, Method.FULL))
                .isEqualTo(1e-5);
    }

    /** PEFT's LoraConfig takes any number for lora_alpha, and its adapter_config.json may hold one. */
    @Test
    void fractionalLoraAlphaIsAcceptedFromDocumentsAndText() {
        SettingValues fromJson = SettingValues.read(Map.of("lora_alpha", 12.5));
        SettingValues fromText = SettingValues.readAssignments(List.of("lora_alpha=12.5"), Settings.CATALOG);

        assertThat(fromText).isEqualTo(fromJson);
        assertThat(fromJson.get(Settings.LORA_ALPHA, Method.LORA)).isEqualTo(12.5);
        assertThat(TrainConfig.lora(fromJson, Method.LORA).withR(5).scaling()).isEqualTo(2.5);
    }

    @Test
    void badValuesAreNamedWithTheirRule() {
        assertThatThrownBy(() -> SettingValues.read(Map.of("lora_r", 12.5)))
                .isInstanceOf(SettingException.class)
                .hasMessage("lora_r must be an integer, got 12.5");
        assertThatThrownBy(() -> SettingValues.read(Map.of("lora_alpha", 0)))
                .hasMessage("lora_alpha must be > 0 and <= 1000000, got 0");
        assertThatThrownBy(() -> SettingValues.read(Map.of("num_train_epochs", 1e9)))
                .hasMessage("num_train_epochs must be > 0 and <= 10000, got 1000000000");
        assertThatThrownBy(() -> SettingValues.read(Map.of("lora_target_modules", List.of("all-linear", "q_proj"))))
                .hasMessageStartingWith("lora_target_modules must be a non-empty list of module names");
        assertThatThrownBy(() -> SettingValues.read(Map.of("warmup_ratio", Double.NaN)))
                .hasMessage("warmup_ratio must be a finite number, got NaN");
        assertThatThrownBy(() -> SettingValues.readAssignments(List.of("learning_rate"), Settings.CATALOG))
                .hasMessageContaining("--set takes name=value");
        assertThatThrownBy(() -> SettingValues.readAssignments(List.of("seed=x"), Settings.CATALOG))
                .hasMessage("seed must be an integer, got \"x\"");
    }

    @Test
    void unknownNamesSuggestTheOneSpelling() {
        assertThatThrownBy(() -> SettingValues.read(Map.of("learningRate", 1e-4)))
                .isInstanceOfSatisfying(SettingException.class, e -> {
                    assertThat(e.setting()).isEqualTo("learningRate");
                    assertThat(e.suggestion()).contains("learning_rate");
                })
                .hasMessage("learningRate is not a known setting; did you mean learning_rate?");
        assertThatThrownBy(() -> SettingValues.read(Map.of("epochs", 3)))
                .hasMessageStartingWith("epochs is not a known setting");
        assertThat(SettingsCatalog.closest("per_device_batch_size", List.of("per_device_train_batch_size", "seed")))
                .contains("per_device_train_batch_size");
        assertThat(SettingsCatalog.closest("zzz", List.of("seed"))).isEmpty();
    }

    /** A setting added by one declaration is read from YAML and --set, checked, and written to the wire. */
    @Test
    void aNewSettingNeedsOnlyItsDeclaration() throws IOException {
        Setting<Double> neftune = Setting.of(
                "neftune_noise_alpha",
                ValueType.DECIMAL,
                0.0,
                Rule.between(0, 100),
                "NEFTune: uniform noise of this scale added to the embeddings while training");
        SettingsCatalog catalog = Settings.CATALOG.plus(neftune);

        Path file = dir.resolve("job.yaml");
        Files.writeString(file, "model: m\ntrain_file: d.jsonl\noutput_dir: out\nneftune_noise_alpha: 5\n");
        TrainConfig job = TrainConfigYaml.load(file, catalog);
        assertThat(job.setting(neftune)).isEqualTo(5.0);
        assertThat(job.settings().toPlainMap()).isEqualTo(Map.of("neftune_noise_alpha", 5.0));

        SettingValues fromCli = SettingValues.readAssignments(List.of("neftune_noise_alpha=5"), catalog);
        assertThat(fromCli).isEqualTo(job.settings());

        Files.writeString(file, "model: m\ntrain_file: d.jsonl\noutput_dir: out\nneftune_noise_alpha: -1\n");
        assertThatThrownBy(() -> TrainConfigYaml.load(file, catalog))
                .hasMessageEndingWith("job.yaml: neftune_noise_alpha must be in [0, 100], got -1");
        assertThatThrownBy(() -> SettingValues.read(Map.of("neftune_noise_alph", 1), catalog))
                .hasMessage("neftune_noise_alph is not a known setting; did you mean neftune_noise_alpha?");
        assertThat(SettingsCommand.markdownTable(catalog)).contains("| `neftune_noise_alpha` | a number | 0 |");
        assertThatThrownBy(() -> TrainConfigYaml.load(file))
                .as("the engine's own catalog does not know it")
                .hasMessageContaining("neftune_noise_alpha is not a known setting");
    }

    @Test
    void theReadmeTableIsTheCatalog() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        assertThat(readme)
                .as("README.md's settings table; regenerate with: bin/llm settings --markdown")
                .contains(SettingsCommand.markdownTable(Settings.CATALOG));
    }

    @Test
    void valuesKeepTheCatalogsOrderWhateverOrderTheyCameIn() {
        Map<String, Object> raw = new LinkedHashMap<>();
        raw.put("seed", 1);
        raw.put("learning_rate", 0.1);
        assertThat(SettingValues.read(raw).toPlainMap().keySet()).containsExactly("learning_rate", "seed");
    }
}
