package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.DpoLossType;
import dev.finetune.llm.objective.OrpoLoss;
import dev.finetune.llm.objective.PreferenceBatch;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.PreferenceScores;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Activation checkpointing and the chunked LM head change how gradients are computed, not what they
 * are: every trainable parameter's gradient equals the one of the plain computation (the whole
 * logits, one recorded forward pass, one backward call), for LoRA, QLoRA and full fine-tuning, SFT
 * (plain and packed rows), DPO, ORPO and KTO. Adapters have dropout on (so the replay must draw the same masks)
 * and non-zero B (so every adapter matrix has a gradient). The LM head runs in chunks of 5 rows, so a
 * batch spans several chunks and one ragged last chunk.
 */
class GradientParityTest {
    /** Relative to each tensor's largest gradient: fp32 rounding of differently ordered sums stays below. */
    private static final double TOLERANCE = 1e-6;

    private static final double BETA = 0.5;
    private static final ChunkedLmHead FIVE_ROWS = new ChunkedLmHead(5);
    private static final LoraConfig LORA =
            LoraConfig.defaults().withDropout(0.3).withTargetModules("all-linear");

    private static final List<TrainingSequence> SEQUENCES = List.of(
            sequence(new long[] {1, 17, 99, 3, 44, 8, 120, 31, 2}, 3),
            sequence(new long[] {1, 64, 2, 77, 31, 9}, 2),
            sequence(new long[] {1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 2}, 4));

    private static final List<PreferencePair> PAIRS = List.of(
            new PreferencePair(new long[] {1, 17, 99}, new long[] {3, 44, 8, 2}, new long[] {120, 31, 2}),
            new PreferencePair(new long[] {1, 64}, new long[] {77, 2}, new long[] {9, 9, 10, 11, 2}));

    @Test
    void checkpointedSftGradientsEqualThePlainOnesForLora() {
        assertSftParity(ModelType.LLAMA, Method.LORA, false);
    }

    @Test
    void checkpointedSftGradientsEqualThePlainOnesForQlora() {
        assertSftParity(ModelType.LLAMA, Method.QLORA, false);
    }

    /**
     * DoRA's weight norm is computed again when checkpointing rebuilds a layer (over an nf4 base from
     * the weight dequantised again); its magnitude gets the same gradient either way. Qwen2 has biases
     * on q/k/v.
     */
    @Test
    void checkpointedSftGradientsEqualThePlainOnesForDora() {
        assertSftParity(ModelType.QWEN2, Method.LORA, false, LORA.withUseDora(true));
        assertSftParity(ModelType.LLAMA, Method.QLORA, false, LORA.withUseDora(true));
    }

    @Test
    void checkpointedSftGradientsEqualThePlainOnesForFullFineTuningWithTiedEmbeddings() {
        assertSftParity(ModelType.QWEN3, Method.FULL, false);
    }

    @Test
    void checkpointedSftGradientsEqualThePlainOnesForPackedRows() {
        assertSftParity(ModelType.MISTRAL, Method.LORA, true);
        assertSftParity(ModelType.QWEN2, Method.FULL, true);
    }

    @Test
    void checkpointedDpoGradientsEqualThePlainOnes() {
        assertDpoParity(ModelType.QWEN2, Method.LORA, DpoLossType.SIGMOID);
        assertDpoParity(ModelType.LLAMA, Method.QLORA, DpoLossType.SIGMOID);
        assertDpoParity(ModelType.QWEN3, Method.FULL, DpoLossType.SIGMOID);
    }

    /**
     * IPO scores each completion by its mean log-probability per token: the plain computation divides
     * by the completions' lengths taken from the pairs (4 and 3, 2 and 5 tokens), and the step, whose
     * reference and policy sums both need dividing, must give the same loss and gradients.
     */
    @Test
    void ipoStepScoresCompletionsByTheirMeanTokenLogProbability() {
        assertDpoParity(ModelType.LLAMA, Method.LORA, DpoLossType.IPO);
        assertDpoParity(ModelType.QWEN3, Method.FULL, DpoLossType.IPO);
    }

    @Test
    void checkpointedOrpoGradientsEqualThePlainOnes() {
        assertOrpoParity(ModelType.LLAMA, Method.LORA);
        assertOrpoParity(ModelType.QWEN3, Method.FULL);
    }

    @Test
    void checkpointedKtoGradientsEqualThePlainOnes() {
        assertKtoParity(ModelType.LLAMA, Method.LORA);
        assertKtoParity(ModelType.QWEN3, Method.FULL);
    }

    @Test
    void chunkedLmHeadAloneGivesThePlainLossAndGradients() {
        SftBatch batch = SftBatch.of(SEQUENCES, 0, false);
        double[] losses = new double[2];
        Map<String, float[]> plain =
                gradients(ModelType.LLAMA, Method.FULL, false, model -> (lm, c) -> losses[0] = plainSft(lm, batch, c));
        Map<String, float[]> chunked = gradients(
                ModelType.LLAMA,
                Method.FULL,
                false,
                model -> (lm, c) ->
                        losses[1] = SftLoss.backward(lm, batch, batch.targetCount(), FIVE_ROWS, lm.manager(), c));
        assertSameGradients(chunked, plain, "chunked head only, full sft llama");
        assertThat(losses[1]).isCloseTo(losses[0], within(TOLERANCE * Math.abs(losses[0])));
    }

    /**
     * Without checkpointing each layer's array handles are closed when the layer is done and backward
     * relies on what the recorded graph holds. Garbage collections running all through the pass free
     * the direct buffers behind closed arrays that were made from Java data (as dropout masks are), so
     * a mask the graph still needed would turn into garbage and the gradients would differ.
     */
    @Test
    void layerScopesKeepWhatBackwardNeedsWhileCollectionsRun() {
        SftBatch batch = SftBatch.of(SEQUENCES, 0, false);
        for (ModelType type : List.of(ModelType.LLAMA, ModelType.QWEN3)) {
            double[] losses = new double[2];
            Map<String, float[]> plain =
                    gradients(type, Method.LORA, false, model -> (lm, c) -> losses[0] = plainSft(lm, batch, c));
            Map<String, float[]> scoped = gradients(type, Method.LORA, false, model -> (lm, c) -> {
                try (Collections ignored = Collections.start()) {
                    return losses[1] = SftLoss.backward(lm, batch, batch.targetCount(), FIVE_ROWS, lm.manager(), c);
                }
            });
            assertSameGradients(scoped, plain, "layer scopes, lora sft " + type);
            assertThat(losses[1]).isCloseTo(losses[0], within(TOLERANCE * Math.abs(losses[0])));
        }
    }

    /** A thread that collects garbage and churns the allocator until closed. */
    private static final class Collections implements AutoCloseable {
        private final Thread thread;
        private volatile boolean running = true;

        private Collections() {
            thread = new Thread(() -> {
                while (running) {
                    System.gc();
                    java.nio.ByteBuffer.allocateDirect(64 * 1024).putFloat(0, 1f); // reuse freed native blocks
                }
            });
            thread.setDaemon(true);
        }

        static Collections start() {
            Collections collections = new Collections();
            collections.thread.start();
            return collections;
        }

        @Override
        public void close() {
            running = false;
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void qloraRecomputesTheLayersEvenWhenCheckpointingIsOff() {
        try (TrainableModel model = prepare(ModelType.LLAMA, Method.QLORA)) {
            model.setGradientCheckpointing(false);
            assertThat(model.model().gradientCheckpointing()).isTrue();
        }
        try (TrainableModel model = prepare(ModelType.LLAMA, Method.LORA)) {
            model.setGradientCheckpointing(false);
            assertThat(model.model().gradientCheckpointing()).isFalse();
        }
    }

    private static void assertSftParity(ModelType type, Method method, boolean packed) {
        assertSftParity(type, method, packed, LORA);
    }

    private static void assertSftParity(ModelType type, Method method, boolean packed, LoraConfig lora) {
        List<TrainingSequence> items = packed ? packedRows() : SEQUENCES;
        SftBatch batch = SftBatch.of(items, 0, packed);
        double[] losses = new double[2];
        Map<String, float[]> plain =
                gradients(type, method, lora, false, model -> (lm, c) -> losses[0] = plainSft(lm, batch, c));
        SftStep step = new SftStep(items, 0, packed, FIVE_ROWS);
        Map<String, float[]> checkpointed = gradients(type, method, lora, true, model -> {
            ObjectiveStep.MicroBatch micro =
                    step.window(List.of(indices(items.size()))).microBatch(0);
            return (lm, c) -> losses[1] = micro.backward(lm, lm.manager(), c);
        });
        String what = method + " sft " + type + (packed ? " packed" : "") + (lora.useDora() ? " dora" : "");
        assertSameGradients(checkpointed, plain, what);
        assertThat(losses[1]).as(what).isCloseTo(losses[0], within(TOLERANCE * Math.abs(losses[0])));
    }

    private static void assertDpoParity(ModelType type, Method method, DpoLossType lossType) {
        DpoConfig config = new DpoConfig(BETA, 512, lossType, 0);
        double[] losses = new double[2];
        Map<String, float[]> plain = gradients(type, method, false, model -> {
            PreferenceScores reference = referenceScores(model);
            return (lm, c) -> losses[0] = plainDpo(lm, reference, config, c);
        });
        Map<String, float[]> checkpointed = gradients(type, method, true, model -> {
            DpoStep dpo = new DpoStep(model, PAIRS, 0, config, FIVE_ROWS);
            dpo.precomputeReference(PAIRS.size(), false); // full fine-tuning only, before any update
            ObjectiveStep.MicroBatch micro =
                    dpo.window(List.of(indices(PAIRS.size()))).microBatch(0);
            return (lm, c) -> losses[1] = micro.backward(lm, lm.manager(), c);
        });
        String what = method + " dpo " + lossType.configName() + " " + type;
        assertSameGradients(checkpointed, plain, what);
        assertThat(losses[1]).as(what).isCloseTo(losses[0], within(TOLERANCE * Math.abs(losses[0])));
    }

    /** What the reference model scores: the initial weights (full) or the adapters switched off. */
    private static PreferenceScores referenceScores(TrainableModel model) {
        if (model.adapters().isPresent()) {
            try (var off = model.reference()) {
                return PreferenceScores.of(model.model(), PAIRS, PAIRS.size(), 0);
            }
        }
        return PreferenceScores.of(model.model(), PAIRS, PAIRS.size(), 0);
    }

    /**
     * KTO with PAIRS read as (prompt, completion, KL completion), the first example desirable and the
     * second not, weights 1.5 and 0.75.
     */
    private static void assertKtoParity(ModelType type, Method method) {
        KtoConfig config = new KtoConfig(BETA, 1.5, 0.75);
        boolean[] desirable = {true, false};
        double[] losses = new double[2];
        Map<String, float[]> plain = gradients(type, method, false, model -> {
            PreferenceScores reference = referenceScores(model);
            return (lm, c) -> losses[0] = plainKto(lm, reference, config, desirable, c);
        });
        Map<String, float[]> checkpointed = gradients(type, method, true, model -> {
            KtoStep kto = new KtoStep(
                    model, PAIRS, desirable, 0, config.loss(model.model().manager()), FIVE_ROWS);
            kto.precomputeReference(PAIRS.size(), false); // full fine-tuning only, before any update
            ObjectiveStep.MicroBatch micro =
                    kto.window(List.of(indices(PAIRS.size()))).microBatch(0);
            return (lm, c) -> losses[1] = micro.backward(lm, lm.manager(), c);
        });
        String what = method + " kto " + type;
        assertSameGradients(checkpointed, plain, what);
        assertThat(losses[1]).as(what).isCloseTo(losses[0], within(TOLERANCE * Math.abs(losses[0])));
    }

    /**
     * KTO written out from the whole logits [2B, T, V], one backward call: KL = max(0, mean over the KL
     * rows of policy - reference), a constant; each example w (1 - sigmoid(+-beta (r - KL))), + for
     * desirable; the mean over the examples.
     */
    private static double plainKto(
            CausalLm lm,
            PreferenceScores reference,
            KtoConfig config,
            boolean[] desirable,
            GradientCollector collector) {
        NDArray loss = plainKtoLoss(lm, reference, config, desirable);
        collector.backward(loss);
        return loss.getFloat();
    }

    /** The KTO loss of {@link #PAIRS} as one batch, written out as {@link #plainKto} describes. */
    private static NDArray plainKtoLoss(
            CausalLm lm, PreferenceScores reference, KtoConfig config, boolean[] desirable) {
        NDManager manager = lm.manager();
        PreferenceBatch batch = PreferenceBatch.of(PAIRS, 0);
        NDArray ids = manager.create(batch.ids()); // [2B, T]
        NDArray logits = lm.forward(ids, manager.create(batch.paddingMask()), null); // [2B, T, V]
        NDArray rows = batch.completionSums(SftLoss.nextTokenLogProbs(logits, ids), manager); // [2B]
        float[] policy = rows.toFloatArray();
        int n = PAIRS.size();
        double kl = 0;
        for (int i = 0; i < n; i++) {
            kl += ((double) policy[n + i] - reference.rejected()[i]) / n;
        }
        kl = Math.max(0, kl);
        float[] scale = new float[n];
        float[] weights = new float[n];
        for (int i = 0; i < n; i++) {
            scale[i] = (float) (desirable[i] ? config.beta() : -config.beta());
            weights[i] = (float) (desirable[i] ? config.desirableWeight() : config.undesirableWeight());
        }
        NDArray x = PreferenceBatch.chosen(rows)
                .sub(manager.create(reference.chosen()))
                .sub(manager.create((float) kl))
                .mul(manager.create(scale)); // [B]
        NDArray loss = manager.create(1f)
                .sub(x.getNDArrayInternal().sigmoid())
                .mul(manager.create(weights))
                .sum()
                .div(manager.create((float) n));
        return loss;
    }

    /**
     * KTO's evaluation of validation examples (PAIRS read as in {@link #assertKtoParity}, one batch of
     * both, so one KL estimate) is the loss written out, against the adapters-off reference (LoRA) or
     * the precomputed initial weights' scores (full fine-tuning); dropout off, no gradients.
     */
    @Test
    @SuppressWarnings("try")
    void ktoEvaluationIsTheKtoLossOfTheValidationExamples() {
        KtoConfig config = new KtoConfig(BETA, 1.5, 0.75);
        boolean[] desirable = {true, false};
        for (Method method : List.of(Method.LORA, Method.FULL)) {
            try (TrainableModel model = prepare(ModelType.LLAMA, method)) {
                model.setTraining(false);
                try (NDScope ignored = new NDScope()) {
                    double expected;
                    try (GradientMode.Paused paused = GradientMode.pause()) {
                        expected = plainKtoLoss(model.model(), referenceScores(model), config, desirable)
                                .getFloat();
                    }
                    KtoStep kto = new KtoStep(
                            model,
                            List.of(),
                            new boolean[0],
                            0,
                            config.loss(model.model().manager()),
                            FIVE_ROWS,
                            PAIRS,
                            desirable,
                            PAIRS.size());
                    kto.precomputeReference(1, false); // full fine-tuning: the validation reference too
                    Map<String, Double> metrics = kto.evaluate(model.model());
                    assertThat(metrics.get("eval_loss"))
                            .as(method.toString())
                            .isCloseTo(expected, within(TOLERANCE * Math.abs(expected)));
                    assertThat(metrics)
                            .containsOnlyKeys(
                                    "eval_loss",
                                    "eval_rewards/chosen",
                                    "eval_logps/chosen",
                                    "eval_rewards/rejected",
                                    "eval_logps/rejected",
                                    "eval_rewards/margins",
                                    "eval_kl");
                }
            }
        }
    }

    private static void assertOrpoParity(ModelType type, Method method) {
        double[] losses = new double[2];
        Map<String, float[]> plain = gradients(type, method, false, model -> (lm, c) -> losses[0] = plainOrpo(lm, c));
        Map<String, float[]> checkpointed = gradients(type, method, true, model -> {
            OrpoStep orpo =
                    new OrpoStep(PAIRS, 0, new OrpoLoss(BETA, model.model().manager()), FIVE_ROWS);
            ObjectiveStep.MicroBatch micro =
                    orpo.window(List.of(indices(PAIRS.size()))).microBatch(0);
            return (lm, c) -> losses[1] = micro.backward(lm, lm.manager(), c);
        });
        String what = method + " orpo " + type;
        assertSameGradients(checkpointed, plain, what);
        assertThat(losses[1]).as(what).isCloseTo(losses[0], within(TOLERANCE * Math.abs(losses[0])));
    }

    /**
     * ORPO written out from the whole logits [2B, T, V] in fp32, one backward call: the mean NLL of
     * every predicted token of the chosen sequences, plus beta times the mean over pairs of
     * softplus(-log_odds) of the completions' mean log-probabilities.
     */
    private static double plainOrpo(CausalLm lm, GradientCollector collector) {
        NDArray loss = plainOrpoLoss(lm);
        collector.backward(loss);
        return loss.getFloat();
    }

    /** The ORPO loss of {@link #PAIRS} as one batch, written out as {@link #plainOrpo} describes. */
    private static NDArray plainOrpoLoss(CausalLm lm) {
        NDManager manager = lm.manager();
        PreferenceBatch batch = PreferenceBatch.of(PAIRS, 0);
        NDArray ids = manager.create(batch.ids()); // [2B, T]
        NDArray logits = lm.forward(ids, manager.create(batch.paddingMask()), null); // [2B, T, V]
        NDArray tokenLogProbs = SftLoss.nextTokenLogProbs(logits, ids); // [2B, T-1]
        int chosenPredictions = 0;
        float[] lengths = new float[2 * PAIRS.size()];
        for (int i = 0; i < PAIRS.size(); i++) {
            chosenPredictions += PAIRS.get(i).prompt().length + PAIRS.get(i).chosen().length - 1;
            lengths[i] = PAIRS.get(i).chosen().length;
            lengths[PAIRS.size() + i] = PAIRS.get(i).rejected().length;
        }
        NDArray nll = tokenLogProbs
                .mul(manager.create(batch.chosenPredictionMask()))
                .sum()
                .neg()
                .div(manager.create((float) chosenPredictions));
        NDArray means = batch.completionSums(tokenLogProbs, manager).div(manager.create(lengths)); // [2B]
        NDArray one = manager.create(1f);
        NDArray chosen = PreferenceBatch.chosen(means);
        NDArray rejected = PreferenceBatch.rejected(means);
        NDArray logOdds = chosen.sub(rejected)
                .sub(one.sub(chosen.exp()).log().sub(one.sub(rejected.exp()).log())); // [B]
        NDArray oddsRatio = logOdds.neg()
                .getNDArrayInternal()
                .softPlus()
                .sum()
                .mul(manager.create((float) BETA))
                .div(manager.create((float) PAIRS.size()));
        return nll.add(oddsRatio);
    }

    /**
     * ORPO's evaluation of validation pairs, one pair per forward pass, is the loss written out over
     * all of them as one batch (the NLL's mean over every chosen token of the split, not a mean of
     * per-batch means), with TRL's metrics under the eval_ prefix; dropout off, no gradients.
     */
    @Test
    @SuppressWarnings("try")
    void orpoEvaluationIsTheOrpoLossOfTheValidationPairs() {
        try (TrainableModel model = prepare(ModelType.LLAMA, Method.LORA)) {
            model.setTraining(false);
            try (NDScope ignored = new NDScope()) {
                double expected;
                try (GradientMode.Paused paused = GradientMode.pause()) {
                    expected = plainOrpoLoss(model.model()).getFloat();
                }
                OrpoStep orpo = new OrpoStep(
                        List.of(), 0, new OrpoLoss(BETA, model.model().manager()), FIVE_ROWS, PAIRS, 1);
                Map<String, Double> metrics = orpo.evaluate(model.model());
                assertThat(metrics.get("eval_loss")).isCloseTo(expected, within(TOLERANCE * Math.abs(expected)));
                assertThat(metrics.get("eval_loss"))
                        .isCloseTo(
                                metrics.get("eval_nll_loss") - BETA * metrics.get("eval_log_odds_ratio"), within(1e-9));
                assertThat(metrics)
                        .containsOnlyKeys(
                                "eval_loss",
                                "eval_rewards/chosen",
                                "eval_rewards/rejected",
                                "eval_rewards/accuracies",
                                "eval_rewards/margins",
                                "eval_logps/chosen",
                                "eval_logps/rejected",
                                "eval_nll_loss",
                                "eval_log_odds_ratio",
                                "eval_log_odds_chosen");
            }
        }
    }

    /** SFT as it was computed before chunking: the whole logits [B, T, V], one backward call. */
    private static double plainSft(CausalLm lm, SftBatch batch, GradientCollector collector) {
        NDArray loss = SftLoss.windowMean(batch.logits(lm, lm.manager()), batch, batch.targetCount(), lm.manager());
        collector.backward(loss);
        return loss.getFloat();
    }

    /**
     * DPO from the whole logits [2B, T, V] with gradient, one backward call; for ipo the sums are
     * divided by the completions' lengths as the pairs give them.
     */
    private static double plainDpo(
            CausalLm lm, PreferenceScores reference, DpoConfig config, GradientCollector collector) {
        NDManager manager = lm.manager();
        PreferenceBatch batch = PreferenceBatch.of(PAIRS, 0);
        NDArray ids = manager.create(batch.ids()); // [2B, T]
        NDArray logits = lm.forward(ids, manager.create(batch.paddingMask()), null); // [2B, T, V]
        NDArray rows = batch.completionSums(SftLoss.nextTokenLogProbs(logits, ids), manager); // [2B]
        float[] referenceChosen = reference.chosen().clone();
        float[] referenceRejected = reference.rejected().clone();
        if (config.lossType() == DpoLossType.IPO) {
            float[] lengths = new float[2 * PAIRS.size()];
            for (int i = 0; i < PAIRS.size(); i++) {
                lengths[i] = PAIRS.get(i).chosen().length;
                lengths[PAIRS.size() + i] = PAIRS.get(i).rejected().length;
                referenceChosen[i] /= lengths[i];
                referenceRejected[i] /= lengths[PAIRS.size() + i];
            }
            rows = rows.div(manager.create(lengths)); // [2B]
        }
        NDArray loss = config.loss(manager)
                .losses(
                        PreferenceBatch.chosen(rows),
                        PreferenceBatch.rejected(rows),
                        manager.create(referenceChosen),
                        manager.create(referenceRejected))
                .sum()
                .div(manager.create((float) PAIRS.size()));
        collector.backward(loss);
        return loss.getFloat();
    }

    /** A micro-batch's forward and backward passes. */
    @FunctionalInterface
    private interface Pass {
        double backward(CausalLm lm, GradientCollector collector);
    }

    /**
     * The gradients one micro-batch gives a freshly prepared model (same weights, adapters and dropout
     * masks every time), with checkpointing on or off. {@code setUp} runs after the step's randomness
     * is seeded and outside the gradient collector, as the training loop makes its micro-batches.
     */
    private static Map<String, float[]> gradients(
            ModelType type, Method method, boolean checkpointing, Function<TrainableModel, Pass> setUp) {
        return gradients(type, method, LORA, checkpointing, setUp);
    }

    @SuppressWarnings("try")
    private static Map<String, float[]> gradients(
            ModelType type,
            Method method,
            LoraConfig lora,
            boolean checkpointing,
            Function<TrainableModel, Pass> setUp) {
        try (TrainableModel model = prepare(type, method, lora)) {
            model.setGradientCheckpointing(checkpointing);
            assertThat(model.model().gradientCheckpointing()).isEqualTo(checkpointing || method == Method.QLORA);
            model.setTraining(true);
            model.beginStep(7, 0);
            try (NDScope ignored = new NDScope()) {
                Pass pass = setUp.apply(model);
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    pass.backward(model.model(), collector);
                }
                return read(model.parameters());
            }
        }
    }

    @SuppressWarnings("try")
    private static Map<String, float[]> read(Map<String, Parameter> parameters) {
        Map<String, float[]> gradients = new LinkedHashMap<>();
        try (NDScope ignored = new NDScope()) {
            parameters.forEach(
                    (name, p) -> gradients.put(name, p.array().getGradient().toFloatArray()));
        }
        return gradients;
    }

    /** A tiny model of {@code type} prepared for {@code method}, with random non-zero LoRA B matrices. */
    private static TrainableModel prepare(ModelType type, Method method) {
        return prepare(type, method, LORA);
    }

    private static TrainableModel prepare(ModelType type, Method method, LoraConfig lora) {
        CausalLm lm = TinyModelGenerator.create(
                TinyModels.config(type), 11, TinyModelGenerator.Initialization.TEST, Device.cpu());
        TrainableModel model = TrainableModel.prepare(lm, method, lora, 3);
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

    private static void assertSameGradients(Map<String, float[]> actual, Map<String, float[]> expected, String what) {
        assertThat(actual.keySet()).as(what).isEqualTo(expected.keySet());
        double worst = 0;
        for (String name : expected.keySet()) {
            float[] e = expected.get(name);
            float[] a = actual.get(name);
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < e.length; i++) {
                scale = Math.max(scale, Math.abs(e[i]));
                diff = Math.max(diff, Math.abs(a[i] - e[i]));
            }
            assertThat(scale).as("%s: %s has a gradient", what, name).isPositive();
            assertThat(diff)
                    .as("%s: %s (largest gradient %s)", what, name, scale)
                    .isLessThanOrEqualTo(TOLERANCE * scale);
            worst = Math.max(worst, diff / scale);
        }
        System.out.printf(
                "%s: largest relative gradient difference %.2e over %d tensors%n", what, worst, expected.size());
    }

    private static List<TrainingSequence> packedRows() {
        // Two rows: [example 0 | example 1] and [example 2]; positions restart at each example.
        TrainingSequence a = SEQUENCES.get(0);
        TrainingSequence b = SEQUENCES.get(1);
        int n = a.length() + b.length();
        long[] ids = new long[n];
        long[] positions = new long[n];
        boolean[] targets = new boolean[n];
        System.arraycopy(a.ids(), 0, ids, 0, a.length());
        System.arraycopy(b.ids(), 0, ids, a.length(), b.length());
        System.arraycopy(a.positions(), 0, positions, 0, a.length());
        System.arraycopy(b.positions(), 0, positions, a.length(), b.length());
        System.arraycopy(a.targets(), 0, targets, 0, a.length());
        System.arraycopy(b.targets(), 0, targets, a.length(), b.length());
        return List.of(new TrainingSequence(ids, positions, targets), SEQUENCES.get(2));
    }

    private static int[] indices(int n) {
        int[] all = new int[n];
        java.util.Arrays.setAll(all, i -> i);
        return all;
    }

    private static TrainingSequence sequence(long[] ids, int promptLength) {
        boolean[] targets = new boolean[ids.length];
        java.util.Arrays.fill(targets, promptLength, ids.length, true);
        return TrainingSequence.of(ids, targets);
    }
}
