package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.optim.LossScaler;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fp16: true} on a tiny model: the adapted base linears compute in fp16 with torch's dynamic
 * loss scaling, and the result tracks fp32 training; an overflowing step is skipped without touching
 * weights or optimizer state; the scaler's state survives a checkpoint.
 */
class Fp16TrainingTest {
    /**
     * fp16 has a 2^-11 relative rounding step; through the tiny model's layers of products the losses
     * agree to within this (measured 2026-12-06: 4e-5 and 7e-5 relative; the update below 0.021).
     */
    private static final double LOSS_TOLERANCE = 2e-3;

    /**
     * The weights' change over the steps (L2 over all adapter values) differs from fp32's by at most
     * this fraction of it. Not element by element: AdamW moves each weight by about the learning rate
     * times the sign of a consistent gradient, so a gradient element near zero can flip its update
     * under fp16 rounding while the update as a whole stays the same.
     */
    private static final double UPDATE_TOLERANCE = 0.05;

    private static final int STEPS = 3;
    private static final ChunkedLmHead FIVE_ROWS = new ChunkedLmHead(5);
    private static final LoraConfig LORA = LoraConfig.defaults().withDropout(0).withTargetModules("all-linear");
    private static final List<TrainingSequence> SEQUENCES = List.of(
            sequence(new long[] {1, 17, 99, 3, 44, 8, 120, 31, 2}, 3),
            sequence(new long[] {1, 64, 2, 77, 31, 9}, 2),
            sequence(new long[] {1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 2}, 4));

    @TempDir
    Path dir;

    @Test
    void fp16TrainingTracksFp32Training() {
        Run fp32 = train(false, null);
        Run fp16 = train(true, LossScaler.INIT_SCALE);
        for (int step = 0; step < STEPS; step++) {
            assertThat(fp16.updates.get(step).skipped()).isFalse();
            double expected = fp32.losses.get(step);
            assertThat(Math.abs(fp16.losses.get(step) - expected))
                    .as("loss of step %d", step + 1)
                    .isLessThanOrEqualTo(LOSS_TOLERANCE * Math.abs(expected));
        }
        double moved = distance(fp32.initial, fp32.trained);
        double apart = distance(fp32.trained, fp16.trained);
        assertThat(apart).as("fp16 products differ from fp32 ones").isPositive();
        assertThat(apart / moved)
                .as("fp16 vs fp32 update (%s) over the fp32 update (%s)", apart, moved)
                .isLessThanOrEqualTo(UPDATE_TOLERANCE);
        assertThat(fp16.scale).isEqualTo(LossScaler.INIT_SCALE);
    }

    /**
     * A scale of 2^40 turns every fp16 gradient into inf: both steps are skipped, the weights, AdamW's
     * moments and step count stay bit for bit, the scale halves each time, and the learning-rate
     * schedule does not advance (the second step runs at the first one's rate, as transformers'
     * Trainer does not step its scheduler after a skipped optimizer step).
     */
    @Test
    @SuppressWarnings("try")
    void anOverflowingStepIsSkippedAndHalvesTheScale() {
        try (TrainableModel model = prepare();
                Optimization optimization = optimization(model, true, Math.pow(2, 40))) {
            Map<String, float[]> weights = snapshot(model.parameters());
            Map<String, float[]> first = values(optimization.optimizer().firstMoments());
            Map<String, float[]> second = values(optimization.optimizer().secondMoments());
            List<Optimization.Update> updates = new ArrayList<>();
            for (int step = 0; step < 2; step++) {
                accumulate(model, optimization, step);
                updates.add(optimization.update(step));
            }
            assertThat(updates).allSatisfy(update -> {
                assertThat(update.skipped()).isTrue();
                assertThat(update.gradNorm()).isNotFinite();
            });
            assertThat(updates.get(1).learningRate()).isEqualTo(updates.get(0).learningRate());
            assertThat(optimization.schedule().rate(1))
                    .isNotEqualTo(optimization.schedule().rate(0));
            assertIdentical(snapshot(model.parameters()), weights);
            assertIdentical(values(optimization.optimizer().firstMoments()), first);
            assertIdentical(values(optimization.optimizer().secondMoments()), second);
            assertThat(optimization.optimizer().step()).isZero();
            assertThat(optimization.lossScaler().orElseThrow().scale()).isEqualTo(Math.pow(2, 38));
            assertThat(optimization.skippedSteps()).isEqualTo(2);
            snapshot(model.parameters(), true).values().forEach(gradient -> assertThat(gradient)
                    .containsOnly(0f));
        }
    }

    /** The scaler's scale, growth tracker and skipped steps go into the checkpoint and come back exactly. */
    @Test
    void theScalerStateRoundTripsThroughACheckpointFile() throws IOException {
        try (TrainableModel model = prepare();
                Optimization saved = optimization(model, true, LossScaler.INIT_SCALE);
                Optimization restored = optimization(model, true, LossScaler.INIT_SCALE)) {
            saved.restoreLossScaler(8192, 5, 2);
            Files.createDirectories(dir);
            LossScalerFile.write(dir, saved);
            LossScalerFile.restore(dir, restored);
            assertThat(restored.lossScaler().orElseThrow().scale()).isEqualTo(8192);
            assertThat(restored.lossScaler().orElseThrow().growthTracker()).isEqualTo(5);
            assertThat(restored.skippedSteps()).isEqualTo(2);

            Files.writeString(dir.resolve(LossScalerFile.FILE_NAME), "{\"scale\": \"big\"}");
            assertThatThrownBy(() -> LossScalerFile.restore(dir, restored))
                    .hasMessageContaining("scaler.json: field scale must be a number, got \"big\"");
            Files.delete(dir.resolve(LossScalerFile.FILE_NAME));
            assertThatThrownBy(() -> LossScalerFile.restore(dir, restored))
                    .hasMessageContaining("scaler.json is missing: the run uses fp16");
        }
    }

    /** The training loop reports the scale and the skipped steps, and checkpoints the scaler. */
    @Test
    void aRunReportsTheLossScaleAndCheckpointsTheScaler() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 5);
        Path data = TinyJob.jsonl(dir.resolve("train.jsonl"), CapitalsTask.sftLines());
        TrainConfig config = TrainConfig.of(model, data, dir.resolve("out"), Method.LORA, Objective.SFT)
                .with(Settings.FP16, true)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                .with(Settings.MAX_STEPS, 2);
        List<Map<String, Double>> metrics = new ArrayList<>();
        try (Recipe recipe = Recipes.create(config, new TrainingListener() {
            @Override
            public void onStep(StepMetrics step) {
                metrics.add(step.objectiveMetrics());
            }
        })) {
            recipe.setup();
            TrainResult result = recipe.train();
            assertThat(result.step()).isEqualTo(2);
            String saved = Files.readString(result.lastCheckpoint().resolve(LossScalerFile.FILE_NAME));
            assertThat(saved).contains("\"scale\" : 65536.0", "\"_growth_tracker\" : 2", "\"skipped_steps\" : 0");
        }
        assertThat(metrics).hasSize(2).allSatisfy(m -> assertThat(m)
                .containsEntry(Optimization.LOSS_SCALE, 65536.0)
                .containsEntry(Optimization.SKIPPED_STEPS, 0.0));
    }

    @Test
    void fullFineTuningWithFp16IsRefusedNamingTheSetting() {
        SettingValues settings = SettingValues.none().with(Settings.FP16, true);
        assertThatThrownBy(() -> TrainConfig.checkCombination(Method.FULL, settings))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("fp16 true cannot be used with method full");
        TrainConfig.checkCombination(Method.LORA, settings);
        TrainConfig.checkCombination(Method.QLORA, settings);
    }

    private record Run(
            List<Double> losses,
            List<Optimization.Update> updates,
            Map<String, float[]> initial,
            Map<String, float[]> trained,
            double scale) {}

    private static Run train(boolean fp16, Double initScale) {
        try (TrainableModel model = prepare();
                Optimization optimization = optimization(model, fp16, initScale == null ? 1 : initScale)) {
            Map<String, float[]> initial = snapshot(model.parameters());
            List<Double> losses = new ArrayList<>();
            List<Optimization.Update> updates = new ArrayList<>();
            for (int step = 0; step < STEPS; step++) {
                losses.add(accumulate(model, optimization, step));
                updates.add(optimization.update(step));
            }
            double scale = optimization.lossScaler().map(LossScaler::scale).orElse(Double.NaN);
            return new Run(losses, updates, initial, snapshot(model.parameters()), scale);
        }
    }

    @SuppressWarnings("try")
    private static double accumulate(TrainableModel model, Optimization optimization, int step) {
        model.setTraining(true);
        model.beginStep(7, step);
        SftStep sft = new SftStep(SEQUENCES, 0, false, FIVE_ROWS);
        ObjectiveStep.MicroBatch micro =
                sft.window(List.of(new int[] {0, 1, 2})).microBatch(0);
        CausalLm lm = model.model();
        try (NDScope ignored = new NDScope()) {
            return optimization.accumulate(collector -> micro.backward(lm, lm.manager(), collector));
        }
    }

    private static Optimization optimization(TrainableModel model, boolean fp16, double initScale) {
        TrainingArguments arguments = TrainingArguments.from(
                SettingValues.none()
                        .with(Settings.FP16, fp16)
                        .with(Settings.LEARNING_RATE, 1e-2)
                        .with(Settings.WARMUP_STEPS, 2),
                Method.LORA);
        LossScaler scaler = fp16
                ? new LossScaler(
                        initScale, LossScaler.GROWTH_INTERVAL, model.model().manager())
                : null;
        return new Optimization(model, arguments, 10, scaler);
    }

    /** A tiny llama with LoRA on every linear and random non-zero B, so every adapter has a gradient. */
    private static TrainableModel prepare() {
        CausalLm lm = TinyModelGenerator.create(
                TinyModels.config(ModelType.LLAMA), 11, TinyModelGenerator.Initialization.TEST, Device.cpu());
        TrainableModel model = TrainableModel.prepare(lm, Method.LORA, LORA, 3);
        SplittableRandom random = new SplittableRandom(5);
        model.parameters().forEach((name, p) -> {
            if (name.contains("lora_B")) {
                float[] values = new float[Math.toIntExact(p.shape().size())];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (random.nextDouble() - 0.5) * 0.2f;
                }
                p.array().set(values);
            }
        });
        return model;
    }

    private static Map<String, float[]> snapshot(Map<String, Parameter> parameters) {
        return snapshot(parameters, false);
    }

    @SuppressWarnings("try")
    private static Map<String, float[]> snapshot(Map<String, Parameter> parameters, boolean gradients) {
        Map<String, float[]> values = new LinkedHashMap<>();
        try (NDScope ignored = new NDScope()) {
            parameters.forEach(
                    (name, p) -> values.put(name, (gradients ? p.array().getGradient() : p.array()).toFloatArray()));
        }
        return values;
    }

    private static Map<String, float[]> values(Map<String, NDArray> arrays) {
        Map<String, float[]> values = new LinkedHashMap<>();
        arrays.forEach((name, array) -> values.put(name, array.toFloatArray()));
        return values;
    }

    private static void assertIdentical(Map<String, float[]> actual, Map<String, float[]> expected) {
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        expected.forEach((name, values) -> assertThat(Arrays.equals(actual.get(name), values))
                .as("%s bit for bit", name)
                .isTrue());
    }

    /** The L2 distance between two sets of parameters, over all their values. */
    private static double distance(Map<String, float[]> a, Map<String, float[]> b) {
        double sum = 0;
        for (String name : a.keySet()) {
            float[] x = a.get(name);
            float[] y = b.get(name);
            for (int i = 0; i < x.length; i++) {
                sum += (double) (x[i] - y[i]) * (x[i] - y[i]);
            }
        }
        return Math.sqrt(sum);
    }

    private static TrainingSequence sequence(long[] ids, int promptLength) {
        boolean[] targets = new boolean[ids.length];
        Arrays.fill(targets, promptLength, ids.length, true);
        return TrainingSequence.of(ids, targets);
    }
}
