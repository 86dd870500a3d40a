package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.llm.objective.DpoLossType;
import dev.finetune.llm.optim.ScheduleType;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.BaseStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Job files: defaults fill what is left out, and every mistake is named with its file, key and value. */
class TrainConfigYamlTest {
    private static final String REQUIRED = "model: m\ntrain_file: d.jsonl\noutput_dir: out\n";

    @TempDir
    Path dir;

    @Test
    void omittedSettingsTakeTheMethodsDefaults() throws IOException {
        TrainConfig config = load(REQUIRED + "method: full\n");

        assertThat(config.training()).isEqualTo(TrainingArguments.defaults(Method.FULL));
        assertThat(config.training().learningRate()).isEqualTo(1e-5);
        assertThat(load(REQUIRED).training().learningRate())
                .as("lora by default")
                .isEqualTo(2e-4);
        assertThat(config.model()).isEqualTo(dir.resolve("m"));
        assertThat(config.resume()).isTrue();
    }

    @Test
    void valuesAreReadIncludingNumbersThatYamlLeavesAsStrings() throws IOException {
        TrainConfig config = load(
                REQUIRED
                        + """
                learning_rate: 2e-4
                lr_scheduler_type: cosine
                per_device_train_batch_size: 2
                seed: 7
                lora_target_modules: all-linear
                lora_r: 4
                """);

        assertThat(config.training().learningRate()).isEqualTo(2e-4);
        assertThat(config.training().scheduler()).isEqualTo(ScheduleType.COSINE);
        assertThat(config.training().batchSize()).isEqualTo(2);
        assertThat(config.training().seed()).isEqualTo(7);
        assertThat(config.lora().targetModules()).containsExactly("all-linear");
        assertThat(config.lora().r()).isEqualTo(4);
    }

    @Test
    void invalidValuesAreNamedWithFileKeyAndValue() throws IOException {
        assertThatThrownBy(() -> load(REQUIRED + "learning_rate: -1\n"))
                .isInstanceOf(TrainConfigException.class)
                .hasMessage(dir.resolve("job.yaml") + ": learning_rate must be > 0 and <= 1, got -1");
        assertThatThrownBy(() -> load(REQUIRED + "lora_r: 0\n"))
                .hasMessageEndingWith("job.yaml: lora_r must be in [1, 4096], got 0");
        assertThatThrownBy(() -> load(REQUIRED + "per_device_train_batch_size: 2.5\n"))
                .hasMessageEndingWith("job.yaml: per_device_train_batch_size must be an integer, got 2.5");
        assertThatThrownBy(() -> load(REQUIRED + "max_grad_norm: lots\n"))
                .hasMessageEndingWith("job.yaml: max_grad_norm must be a number, got \"lots\"");
        assertThatThrownBy(() -> load(REQUIRED + "method: adapters\n"))
                .hasMessageEndingWith("job.yaml: method must be one of full, lora, qlora, got \"adapters\"");
        assertThatThrownBy(() -> load(REQUIRED + "loss_type: kto_pair\n"))
                .hasMessageEndingWith(
                        "job.yaml: loss_type must be one of sigmoid, robust, hinge, ipo, got \"kto_pair\"");
        assertThatThrownBy(() -> load(REQUIRED + "label_smoothing: 0.5\n"))
                .hasMessageEndingWith("job.yaml: label_smoothing must be in [0, 0.5), got 0.5");
        assertThatThrownBy(() -> load(REQUIRED + "label_smoothing: -0.1\n"))
                .hasMessageEndingWith("job.yaml: label_smoothing must be in [0, 0.5), got -0.1");
    }

    /** TRL ignores label_smoothing with hinge and ipo; a job that sets it there is refused instead. */
    @Test
    void labelSmoothingIsReadForTheLossesThatHaveItAndRefusedForTheOthers() throws IOException {
        assertThat(load(REQUIRED + "objective: dpo\nloss_type: robust\nlabel_smoothing: 0.1\n")
                        .dpo())
                .isEqualTo(new DpoConfig(0.1, 512, DpoLossType.ROBUST, 0.1));
        assertThat(load(REQUIRED + "loss_type: ipo\n").dpo().lossType()).isEqualTo(DpoLossType.IPO);
        assertThat(load(REQUIRED + "loss_type: hinge\nlabel_smoothing: 0\n")
                        .dpo()
                        .labelSmoothing())
                .isZero();
        assertThatThrownBy(() -> load(REQUIRED + "loss_type: hinge\nlabel_smoothing: 0.1\n"))
                .isInstanceOf(TrainConfigException.class)
                .hasMessageEndingWith("job.yaml: label_smoothing 0.1 cannot be used with loss_type hinge, which has"
                        + " no label smoothing term; use loss_type sigmoid or robust, or leave label_smoothing at 0");
        assertThatThrownBy(() -> load(REQUIRED + "label_smoothing: 0.2\nloss_type: ipo\n"))
                .hasMessageContaining("label_smoothing 0.2 cannot be used with loss_type ipo");
    }

    /** qlora means an nf4 base; lora takes any base_dtype; full trains every weight, so it needs fp32. */
    @Test
    void theBaseDtypeFollowsTheMethodAndAContradictionIsNamed() throws IOException {
        assertThat(load(REQUIRED).baseStorage()).isEqualTo(BaseStorage.FP32);
        assertThat(load(REQUIRED + "method: qlora\n").baseStorage()).isEqualTo(BaseStorage.NF4);
        assertThat(load(REQUIRED + "method: qlora\nbnb_4bit_use_double_quant: false\n")
                        .baseStorage())
                .isEqualTo(new BaseStorage(BaseDType.NF4, false));
        assertThat(load(REQUIRED + "base_dtype: int8\n").lora().baseDtype()).isEqualTo(BaseDType.INT8);
        assertThat(load(REQUIRED + "method: full\n").baseStorage()).isEqualTo(BaseStorage.FP32);

        assertThatThrownBy(() -> load(REQUIRED + "method: full\nbase_dtype: nf4\n"))
                .isInstanceOf(TrainConfigException.class)
                .hasMessageEndingWith("job.yaml: base_dtype nf4 cannot be used with method full: full fine-tuning"
                        + " trains every weight, so the base must be fp32 (to store the base as nf4, train adapters:"
                        + " method lora with base_dtype nf4)");
        assertThatThrownBy(() -> load(REQUIRED + "method: qlora\nbase_dtype: int8\n"))
                .hasMessageEndingWith("job.yaml: base_dtype int8 cannot be used with method qlora, which stores the"
                        + " base as nf4; to store it as int8 use method lora with base_dtype int8");
        assertThatThrownBy(() -> load(REQUIRED + "base_dtype: int4\n"))
                .hasMessageEndingWith("job.yaml: base_dtype must be one of fp32, int8, nf4, got \"int4\"");
    }

    @Test
    void unknownOrMissingKeysAreReported() {
        assertThatThrownBy(() -> load(REQUIRED + "lerning_rate: 1\n"))
                .hasMessageEndingWith("job.yaml: lerning_rate is not a known setting; did you mean learning_rate?");
        assertThatThrownBy(() -> load(REQUIRED + "loraR: 4\n"))
                .as("another spelling of a setting is refused with the one spelling")
                .hasMessageEndingWith("job.yaml: loraR is not a known setting; did you mean lora_r?");
        assertThatThrownBy(() -> load(REQUIRED + "objectve: dpo\n"))
                .hasMessageEndingWith("job.yaml: objectve is not a known setting; did you mean objective?");
        assertThatThrownBy(() -> load(REQUIRED + "colour: blue\n"))
                .hasMessageContaining("job.yaml: colour is not a known setting; known: model, train_file,");
        assertThatThrownBy(() -> load(REQUIRED + "training:\n  learning_rate: 1e-4\n"))
                .as("the sectioned layout of earlier versions says what to write instead")
                .hasMessageContaining(
                        "job.yaml: training must not be a mapping: settings are written at the top level");
        assertThatThrownBy(() -> load("model: m\noutput_dir: out\n"))
                .hasMessageEndingWith("job.yaml: train_file is required");
        assertThatThrownBy(() -> load("- just\n- a list\n")).hasMessageContaining("must be a YAML mapping");
        assertThatThrownBy(() -> load("model: [unclosed\n")).hasMessageContaining("not valid YAML");
    }

    private TrainConfig load(String yaml) throws IOException {
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, yaml);
        return TrainConfigYaml.load(file);
    }
}
