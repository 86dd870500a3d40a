package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.Objective;
import dev.finetune.llm.lora.BaseLinear;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SFT teaches a tiny random model to answer templated capital questions: after a short CPU run the
 * loss has fallen and greedy answers to held-out (template, country) pairs are exact for >= 90%,
 * with full fine-tuning, LoRA and QLoRA; the exported result answers the same when loaded back.
 */
class SftLearningTest {
    private static final double TARGET_ACCURACY = 0.9;

    @TempDir
    Path dir;

    @Test
    void fullFineTuningLearnsToAnswerHeldOutQuestions() throws IOException {
        TrainConfig config = job(Method.FULL, 1e-2, 15);
        List<Double> losses = new ArrayList<>();
        try (SftRecipe recipe = new SftRecipe(config, metrics -> losses.add(metrics.loss()))) {
            recipe.setup();
            double before = CapitalsTask.accuracy(recipe.model().model(), recipe.tokenizer(), CapitalsTask.heldOut());
            TrainResult result = recipe.train();
            double after = CapitalsTask.accuracy(recipe.model().model(), recipe.tokenizer(), CapitalsTask.heldOut());

            assertThat(before).isZero();
            assertThat(after).isGreaterThanOrEqualTo(TARGET_ACCURACY);
            assertLossFell(losses);
            try (CausalLm exported = CausalLm.load(result.output());
                    Tokenizer tokenizer = Tokenizer.load(result.output())) {
                assertThat(CapitalsTask.accuracy(exported, tokenizer, CapitalsTask.heldOut()))
                        .isEqualTo(after);
            }
        }
    }

    @Test
    void packedFullFineTuningLearnsToAnswerHeldOutQuestions() throws IOException {
        TrainConfig job = job(Method.FULL, 1e-2, 15);
        TrainConfig config = job.with(Settings.PACKING, true)
                .with(Settings.MAX_SEQ_LENGTH, 128)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 2);
        List<Double> losses = new ArrayList<>();
        try (SftRecipe recipe = new SftRecipe(config, metrics -> losses.add(metrics.loss()))) {
            recipe.setup();
            assertThat(recipe.items()).as("about four examples per row").hasSizeLessThan(48 / 3);
            assertThat(recipe.items())
                    .allSatisfy(row -> assertThat(row.length()).isLessThanOrEqualTo(128));
            recipe.train();

            double after = CapitalsTask.accuracy(recipe.model().model(), recipe.tokenizer(), CapitalsTask.heldOut());
            assertThat(after).isGreaterThanOrEqualTo(TARGET_ACCURACY);
            assertLossFell(losses);
        }
    }

    @Test
    void loraLearnsToAnswerHeldOutQuestions() throws IOException {
        assertAdaptersLearn(Method.LORA);
    }

    @Test
    void qloraLearnsToAnswerHeldOutQuestions() throws IOException {
        assertAdaptersLearn(Method.QLORA, BaseDType.NF4);
    }

    /** LoRA over an int8 base: the model is loaded straight into int8 and the adapters learn through it. */
    @Test
    void loraOverAnInt8BaseLearnsToAnswerHeldOutQuestions() throws IOException {
        assertAdaptersLearn(Method.LORA, BaseDType.INT8);
    }

    /**
     * DoRA (PEFT's use_dora) at LoRA's rank, alpha and learning rate: at least LoRA's held-out
     * accuracy after the full run (both 1.000 measured) and a third of the way, where neither has
     * learnt everything (10 epochs: lora 0.813, dora 0.875 measured); the exported DoRA adapter
     * answers the same when loaded back.
     */
    @Test
    void doraLearnsAtLeastAsWellAsLoraAtTheSameRank() throws IOException {
        double lora = assertAdaptersLearn(Method.LORA, BaseDType.FP32, false, dir.resolve("lora"));
        double dora = assertAdaptersLearn(Method.LORA, BaseDType.FP32, true, dir.resolve("dora"));
        double loraEarly =
                heldOutAccuracy(adapterJob(dir.resolve("lora-early"), Method.LORA, BaseDType.FP32, false, 10));
        double doraEarly =
                heldOutAccuracy(adapterJob(dir.resolve("dora-early"), Method.LORA, BaseDType.FP32, true, 10));

        System.out.printf(
                "held-out accuracy at rank 16, after 10 and 30 epochs: lora %.3f, %.3f; dora %.3f, %.3f%n",
                loraEarly, lora, doraEarly, dora);
        assertThat(dora).isGreaterThanOrEqualTo(lora);
        assertThat(loraEarly).as("10 epochs are not enough to learn everything").isLessThan(TARGET_ACCURACY);
        assertThat(doraEarly).isGreaterThanOrEqualTo(loraEarly);
    }

    private static double heldOutAccuracy(TrainConfig config) throws IOException {
        try (SftRecipe recipe = new SftRecipe(config, metrics -> {})) {
            recipe.setup();
            recipe.train();
            return CapitalsTask.accuracy(recipe.model().model(), recipe.tokenizer(), CapitalsTask.heldOut());
        }
    }

    private void assertAdaptersLearn(Method method) throws IOException {
        assertAdaptersLearn(method, BaseDType.FP32);
    }

    private void assertAdaptersLearn(Method method, BaseDType base) throws IOException {
        assertAdaptersLearn(method, base, false, dir);
    }

    /** Trains rank-16 adapters on every linear for 30 epochs; returns the held-out accuracy after training. */
    private double assertAdaptersLearn(Method method, BaseDType base, boolean dora, Path root) throws IOException {
        TrainConfig config = adapterJob(root, method, base, dora, 30);
        List<Double> losses = new ArrayList<>();
        try (SftRecipe recipe = new SftRecipe(config, metrics -> losses.add(metrics.loss()))) {
            recipe.setup();
            TrainResult result = recipe.train();
            double after = CapitalsTask.accuracy(recipe.model().model(), recipe.tokenizer(), CapitalsTask.heldOut());

            assertThat(after).as(method.configName()).isGreaterThanOrEqualTo(TARGET_ACCURACY);
            assertLossFell(losses);
            assertThat(recipe.model().adapters().orElseThrow().layers().values())
                    .allSatisfy(layer ->
                            assertThat(BaseLinear.dtype((Module) layer.base())).isEqualTo(base));
            try (CausalLm reloaded = CausalLm.load(config.model())) {
                assertThat(PeftAdapter.load(reloaded, result.output(), config.baseStorage())
                                .config()
                                .useDora())
                        .isEqualTo(dora);
                assertThat(CapitalsTask.accuracy(reloaded, recipe.tokenizer(), CapitalsTask.heldOut()))
                        .isEqualTo(after);
            }
            System.out.printf(
                    "%s%s over %s: held-out accuracy %.3f, loss %.3f -> %.3f%n",
                    method.configName(),
                    dora ? " (dora)" : "",
                    base.configName(),
                    after,
                    losses.get(0),
                    losses.get(losses.size() - 1));
            return after;
        }
    }

    /** Rank-16 adapters (alpha 32) on every linear, learning rate 1e-2. */
    private TrainConfig adapterJob(Path root, Method method, BaseDType base, boolean dora, int epochs)
            throws IOException {
        return job(root, method, 1e-2, epochs)
                .with(Settings.USE_DORA, dora)
                .with(Settings.BASE_DTYPE, base)
                .with(Settings.LORA_TARGET_MODULES, List.of(LoraConfig.ALL_LINEAR))
                .with(Settings.LORA_R, 16)
                .with(Settings.LORA_ALPHA, 32.0);
    }

    /** The mean loss of the last five steps is under a fifth of the first step's. */
    private static void assertLossFell(List<Double> losses) {
        double first = losses.get(0);
        double last = losses.subList(losses.size() - 5, losses.size()).stream()
                .mapToDouble(Double::doubleValue)
                .average()
                .orElseThrow();
        assertThat(last).as("loss %s -> %s", first, last).isLessThan(first / 5);
    }

    private TrainConfig job(Method method, double learningRate, int epochs) throws IOException {
        return job(dir, method, learningRate, epochs);
    }

    private TrainConfig job(Path root, Method method, double learningRate, int epochs) throws IOException {
        Path model = TinyJob.learnable(root.resolve("model"), 3);
        Path data = TinyJob.jsonl(root.resolve("train.jsonl"), CapitalsTask.sftLines());
        return TrainConfig.of(model, data, root.resolve("out"), method, Objective.SFT)
                .with(Settings.LEARNING_RATE, learningRate)
                .with(Settings.NUM_TRAIN_EPOCHS, (double) epochs)
                .with(Settings.WARMUP_RATIO, 0.1);
    }
}
