package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.optim.ScheduleType;
import dev.finetune.llm.peft.AdapterConfigJson;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Continued training (init_adapter) starts from a saved adapter's exact weights with a fresh optimizer
 * and schedule, as PEFT's {@code from_pretrained(is_trainable=True)}. A fresh AdamW is not the
 * optimizer an uninterrupted run has at that step (its moments and bias correction differ), so the
 * continued run equals an uninterrupted one only when the optimizer carries no state between steps:
 * adam_beta1 = adam_beta2 = 0 (each update is g / (|g| + eps), bias correction 1), a constant rate, no
 * dropout (its masks are seeded by the step) and data whose every step is the same batch. Under those
 * settings any difference comes from the weights the continued run starts from, which is what this
 * checks. An exact continuation with real AdamW is resuming from a checkpoint ({@code ResumeTest}).
 */
class InitAdapterTest {
    private static final int N = 2;
    private static final int M = 3;

    @TempDir
    Path dir;

    @Test
    void loraContinuedFromAnAdapterEndsWhereAnUninterruptedRunEnds() throws IOException {
        assertContinuationIsExact(
                Method.LORA, SettingValues.none().with(Settings.LORA_TARGET_MODULES, List.of(LoraConfig.ALL_LINEAR)));
    }

    /** QLoRA over an nf4 base with DoRA: the magnitudes are part of the adapter and are continued too. */
    @Test
    void qloraDoraContinuedFromAnAdapterEndsWhereAnUninterruptedRunEnds() throws IOException {
        assertContinuationIsExact(
                Method.QLORA, SettingValues.none().with(Settings.USE_DORA, true).with(Settings.LORA_ALPHA, 12.5));
    }

    private void assertContinuationIsExact(Method method, SettingValues adapter) throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 5);
        Path data = TinyJob.jsonl(
                dir.resolve("train.jsonl"), CapitalsTask.sftLines().subList(0, 1)); // every step: this batch
        TrainConfig straight = TrainConfig.of(model, data, dir.resolve("straight"), method, Objective.SFT)
                .withSettings(adapter)
                .with(Settings.LEARNING_RATE, 1e-2)
                .with(Settings.LR_SCHEDULER_TYPE, ScheduleType.CONSTANT)
                .with(Settings.ADAM_BETA1, 0.0)
                .with(Settings.ADAM_BETA2, 0.0)
                .with(Settings.LORA_DROPOUT, 0.0)
                .with(Settings.MAX_STEPS, N + M)
                .with(Settings.SAVE_STEPS, N);
        Map<String, float[]> uninterrupted;
        try (Recipe recipe = Recipes.create(straight, TrainingListener.NONE)) {
            recipe.setup();
            assertThat(recipe.train().step()).isEqualTo(N + M);
            uninterrupted = ResumeTest.snapshot(recipe.model().parameters());
        }
        Path parent = dir.resolve("straight").resolve("checkpoint-" + N); // a PEFT adapter directory
        Map<String, float[]> saved = saved(parent);

        TrainConfig continued = straight.withOutputDir(dir.resolve("continued"))
                .withSettings(SettingValues.none()
                        .with(Settings.INIT_ADAPTER, parent.toString())
                        .with(Settings.LEARNING_RATE, 1e-2)
                        .with(Settings.LR_SCHEDULER_TYPE, ScheduleType.CONSTANT)
                        .with(Settings.ADAM_BETA1, 0.0)
                        .with(Settings.ADAM_BETA2, 0.0)
                        .with(Settings.LORA_DROPOUT, 0.0)
                        .with(Settings.MAX_STEPS, M)
                        .with(Settings.SAVE_STEPS, M));
        Map<String, float[]> result;
        try (Recipe recipe = Recipes.create(continued, TrainingListener.NONE)) {
            recipe.setup();
            assertThat(ResumeTest.snapshot(recipe.model().parameters()))
                    .as("the adapter's tensors are loaded bit for bit, the adapter's config deciding the shapes")
                    .containsOnlyKeys(saved.keySet())
                    .allSatisfy((name, values) -> assertThat(values).as(name).isEqualTo(saved.get(name)));
            TrainResult trained = recipe.train();
            assertThat(trained.resumedFrom())
                    .as("starts at step 0 with a fresh optimizer")
                    .isZero();
            assertThat(trained.step()).isEqualTo(M);
            result = ResumeTest.snapshot(recipe.model().parameters());
        }

        assertThat(ResumeTest.maxDifference(saved, uninterrupted))
                .as("the last M steps moved the weights")
                .isGreaterThan(1e-3);
        assertThat(ResumeTest.maxDifference(uninterrupted, result)).isZero();
    }

    @Test
    void aSettingThatDisagreesWithTheAdaptersConfigIsRefusedNamingBoth() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 5);
        Path adapter = adapter(model, LoraConfig.defaults().withR(4), dir.resolve("adapter"));
        TrainConfig job = job(model, adapter).with(Settings.LORA_R, 8);

        assertThatThrownBy(() -> setup(job))
                .isInstanceOf(TrainConfigException.class)
                .hasMessageContaining(
                        "lora_r 8 disagrees with init_adapter's " + adapter.resolve("adapter_config.json"))
                .hasMessageContaining("whose r is 4");
        assertThatThrownBy(() -> setup(job(model, adapter).with(Settings.USE_DORA, true)))
                .hasMessageContaining("use_dora true disagrees")
                .hasMessageContaining("whose use_dora is false");
        assertThatThrownBy(() ->
                        setup(job(model, adapter).with(Settings.LORA_TARGET_MODULES, List.of(LoraConfig.ALL_LINEAR))))
                .hasMessageContaining("lora_target_modules [all-linear] disagrees")
                .hasMessageContaining("whose target_modules is [k_proj, o_proj, q_proj, v_proj]");
    }

    /** As PEFT: the adapter's config decides; the same values written differently are no conflict. */
    @Test
    void settingsThatAgreeWithTheAdaptersConfigAreAccepted() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 5);
        Path adapter = adapter(model, LoraConfig.defaults().withR(4).withAlpha(8), dir.resolve("adapter"));
        TrainConfig job = job(model, adapter)
                .with(Settings.LORA_R, 4)
                .with(Settings.LORA_TARGET_MODULES, List.of("self_attn.q_proj", "k_proj", "v_proj", "o_proj"));

        try (Recipe recipe = Recipes.create(job, TrainingListener.NONE)) {
            recipe.setup();
            LoraConfig attached = recipe.model().adapters().orElseThrow().config();
            assertThat(attached.r()).isEqualTo(4);
            assertThat(attached.alpha()).as("unset: the adapter's").isEqualTo(8);
        }
    }

    @Test
    void tensorsThatDoNotFitTheModelAreRefusedNamingTheFileAndTensor() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 5);
        Path adapter = adapter(model, LoraConfig.defaults().withR(8), dir.resolve("adapter"));
        // the config says rank 4, the tensors are rank 8: an adapter edited or assembled by hand
        AdapterConfigJson.write(
                LoraConfig.defaults().withR(4),
                List.of("q_proj", "k_proj", "v_proj", "o_proj"),
                "",
                adapter.resolve(AdapterConfigJson.FILE_NAME));

        assertThatThrownBy(() -> setup(job(model, adapter)))
                .isInstanceOf(TrainConfigException.class)
                .hasMessageContaining("init_adapter does not fit the base model")
                .hasMessageContaining(adapter.resolve(PeftAdapter.WEIGHTS_FILE).toString())
                .hasMessageContaining("lora_A.weight")
                .hasMessageContaining("does not match the model's");
    }

    @Test
    void fullFineTuningHasNoAdapterToStartFrom() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 5);
        assertThatThrownBy(() -> TrainConfig.of(model, model, dir, Method.FULL, Objective.SFT)
                        .with(Settings.INIT_ADAPTER, "adapters/v1"))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("init_adapter \"adapters/v1\" cannot be used with method full");
    }

    @Test
    void aRegistryReferenceIsForJobsAndAMissingDirectoryIsNamed() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 5);
        assertThatThrownBy(() -> setup(
                        job(model, Path.of("unused")).with(Settings.INIT_ADAPTER, "registry:support-bot@production")))
                .isInstanceOf(TrainConfigException.class)
                .hasMessageContaining("init_adapter \"registry:support-bot@production\" names a registered version");
        assertThatThrownBy(() -> setup(job(model, dir.resolve("nowhere"))))
                .isInstanceOf(TrainConfigException.class)
                .hasMessageContaining(dir.resolve("nowhere").resolve("adapter_config.json") + " does not exist");
        assertThatThrownBy(() -> SettingValues.none().with(Settings.INIT_ADAPTER.name(), "registry:support-bot"))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("init_adapter must be a PEFT adapter directory or"
                        + " registry:<model>@<version or alias>, got \"registry:support-bot\"");
    }

    @Test
    void aJobFilesAdapterDirectoryIsRelativeToTheJobFile() throws IOException {
        Path jobs = Files.createDirectories(dir.resolve("jobs"));
        Path file = Files.writeString(
                jobs.resolve("job.yaml"),
                "model: m\ntrain_file: t.jsonl\noutput_dir: out\ninit_adapter: adapters/v1\n");
        assertThat(TrainConfigYaml.load(file).initAdapter())
                .contains(jobs.toAbsolutePath().resolve("adapters/v1").toString());
        Files.writeString(file, "model: m\ntrain_file: t.jsonl\noutput_dir: out\ninit_adapter: registry:bot@3\n");
        assertThat(TrainConfigYaml.load(file).initAdapter()).contains("registry:bot@3");
    }

    private TrainConfig job(Path model, Path adapter) throws IOException {
        Path data = TinyJob.jsonl(
                dir.resolve("train.jsonl"), CapitalsTask.sftLines().subList(0, 2));
        return TrainConfig.of(model, data, dir.resolve("out"), Method.LORA, Objective.SFT)
                .with(Settings.INIT_ADAPTER, adapter.toString())
                .with(Settings.MAX_STEPS, 1);
    }

    private static void setup(TrainConfig job) throws IOException {
        try (Recipe recipe = Recipes.create(job, TrainingListener.NONE)) {
            recipe.setup();
        }
    }

    private static Path adapter(Path model, LoraConfig config, Path directory) throws IOException {
        try (CausalLm lm = CausalLm.load(model, Device.cpu())) {
            Adapters adapters = Adapters.apply(lm, config, 3);
            PeftAdapter.save(adapters, directory, model.toString());
        }
        return directory;
    }

    private static Map<String, float[]> saved(Path adapter) throws IOException {
        Map<String, float[]> values = new LinkedHashMap<>();
        try (SafetensorsReader reader = SafetensorsReader.open(adapter.resolve(PeftAdapter.WEIGHTS_FILE))) {
            for (String name : reader.names()) {
                values.put(name, reader.readFloats(name));
            }
        }
        return values;
    }
}
