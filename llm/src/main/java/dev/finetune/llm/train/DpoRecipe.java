package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.DpoLoss;
import dev.finetune.llm.objective.PreferenceBatch;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.PreferenceScores;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Direct preference optimisation (sigmoid loss). The reference model is the policy's own starting
 * point: with LoRA and QLoRA the same model with its adapters switched off, scored on each
 * micro-batch before the policy's forward pass; with full fine-tuning, whose initial weights are
 * gone once training starts, the reference log-probabilities of every pair are computed once from
 * the initial weights during setup and stored in each checkpoint, so a resumed run uses the same.
 * Reports TRL's reward metrics with each step.
 */
public final class DpoRecipe implements Recipe {
    /** The reference log-probabilities in a full fine-tuning checkpoint. */
    static final String REFERENCE_FILE = "reference_logps.safetensors";

    private final TrainConfig config;
    private final TrainingListener listener;
    private volatile boolean stopRequested;

    private Tokenizer tokenizer;
    private TrainableModel model;
    private Optimization optimization;
    private BatchPlan plan;
    private RunCheckpoints checkpoints;
    private List<PreferencePair> pairs;
    private PreferenceScores precomputedReference;
    /** beta as an array created once: a Java scalar on the gradient path is freed too early. */
    private NDArray beta;

    private long padId;
    private int step;
    private int resumedFrom;
    private double lastLoss = Double.NaN;
    private Path lastCheckpoint;

    public DpoRecipe(TrainConfig config, TrainingListener listener) {
        this.config = config;
        this.listener = listener;
    }

    @Override
    public void setup() throws IOException {
        TrainingArguments arguments = config.training();
        tokenizer = Tokenizer.load(config.model());
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        pairs = new ArrayList<>();
        for (ChatDatasets.Preference preference : ChatDatasets.preferences(config.trainFile())) {
            pairs.add(encoder.preference(
                    preference.prompt(),
                    preference.chosen(),
                    preference.rejected(),
                    config.dpo().maxPromptLength(),
                    arguments.maxSeqLength()));
        }
        plan = BatchPlan.of(pairs.size(), arguments);
        model = TrainableModel.prepare(CausalLm.load(config.model()), config.method(), config.lora(), arguments.seed());
        padId = RecipeSupport.padId(tokenizer, model.model());
        beta = model.model().manager().create((float) config.dpo().beta());
        optimization = new Optimization(model, arguments, plan.totalSteps());
        checkpoints = new RunCheckpoints(config, model, optimization, plan, fingerprint());
        Optional<TrainerState> resumed = checkpoints.resume(this::restoreReference);
        resumed.ifPresent(state -> {
            step = state.globalStep();
            lastLoss = state.loss();
            lastCheckpoint = config.outputDir().resolve("checkpoint-" + step);
        });
        resumedFrom = step;
        if (model.adapters().isEmpty() && precomputedReference == null) {
            precomputedReference = PreferenceScores.of(model.model(), pairs, arguments.batchSize(), padId);
        }
    }

    private void restoreReference(Path directory) throws IOException {
        if (model.adapters().isEmpty()) {
            Map<String, float[]> saved = TensorFiles.read(directory.resolve(REFERENCE_FILE));
            precomputedReference = new PreferenceScores(saved.get("chosen"), saved.get("rejected"));
        }
    }

    private String fingerprint() {
        DataFingerprint fingerprint = new DataFingerprint().add("dpo");
        for (PreferencePair pair : pairs) {
            fingerprint.add(pair.prompt()).add(pair.chosen()).add(pair.rejected());
        }
        return fingerprint.hex();
    }

    @Override
    public TrainResult train() throws IOException {
        int total = plan.totalSteps();
        listener.onStart(step, total);
        ProgressMeter meter = new ProgressMeter(step, total);
        model.setTraining(true);
        try {
            while (step < total && !stopRequested) {
                StepOutcome outcome = runStep(step);
                step++;
                lastLoss = outcome.statistics().meanLoss();
                ProgressMeter.Lap lap = meter.lap(step, outcome.tokens());
                listener.onStep(new StepMetrics(
                        step,
                        total,
                        plan.epochsAfter(step),
                        lastLoss,
                        outcome.update().learningRate(),
                        outcome.update().gradNorm(),
                        lap.tokensPerSecond(),
                        lap.eta(),
                        metrics(outcome.statistics())));
                if (step % config.training().saveSteps() == 0 || step == total) {
                    saveCheckpoint();
                    meter.resetStepClock();
                }
            }
        } finally {
            model.setTraining(false);
        }
        Path output = step >= total ? checkpoints.export() : null;
        return new TrainResult(step, total, resumedFrom, lastLoss, lastCheckpoint, output);
    }

    private record StepOutcome(DpoLoss.Statistics statistics, Optimization.Update update, int tokens) {}

    @SuppressWarnings("try")
    private StepOutcome runStep(int index) {
        List<int[]> micro = plan.microBatches(index);
        int windowPairs = micro.stream().mapToInt(m -> m.length).sum();
        model.beginStep(config.training().seed(), index);
        CausalLm lm = model.model();
        DpoLoss.Statistics statistics = DpoLoss.Statistics.EMPTY;
        int tokens = 0;
        for (int[] indices : micro) {
            List<PreferencePair> slice = new ArrayList<>();
            for (int i : indices) {
                slice.add(pairs.get(i));
            }
            PreferenceBatch batch = PreferenceBatch.of(slice, padId);
            PreferenceScores reference = reference(indices, slice);
            float[][] policy = new float[1][];
            try (NDScope ignored = new NDScope()) {
                NDManager manager = lm.manager();
                optimization.accumulate(() -> {
                    NDArray rows = batch.sequenceLogProbs(lm, manager); // [2B]
                    policy[0] = rows.toFloatArray();
                    NDArray losses = DpoLoss.losses(
                            PreferenceBatch.chosen(rows),
                            PreferenceBatch.rejected(rows),
                            manager.create(reference.chosen()),
                            manager.create(reference.rejected()),
                            beta); // [B]
                    return losses.sum().div(manager.create((float) windowPairs)); // see Attention.scale
                });
            }
            int pairsInBatch = indices.length;
            statistics = statistics.add(DpoLoss.Statistics.of(
                    java.util.Arrays.copyOfRange(policy[0], 0, pairsInBatch),
                    java.util.Arrays.copyOfRange(policy[0], pairsInBatch, 2 * pairsInBatch),
                    reference.chosen(),
                    reference.rejected(),
                    config.dpo().beta()));
            tokens += batch.tokenCount();
        }
        return new StepOutcome(statistics, optimization.update(index), tokens);
    }

    /** Reference log-probabilities of a micro-batch: precomputed, or the model with adapters off. */
    private PreferenceScores reference(int[] indices, List<PreferencePair> slice) {
        if (precomputedReference != null) {
            return precomputedReference.select(indices);
        }
        try (Adapters.Switch off = model.reference()) {
            return PreferenceScores.of(model.model(), slice, slice.size(), padId);
        }
    }

    /** TRL's names for the reward metrics. */
    private static Map<String, Double> metrics(DpoLoss.Statistics statistics) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("rewards/chosen", statistics.meanChosenReward());
        metrics.put("rewards/rejected", statistics.meanRejectedReward());
        metrics.put("rewards/accuracies", statistics.accuracy());
        metrics.put("rewards/margins", statistics.margin());
        metrics.put("logps/chosen", statistics.meanChosenLogProb());
        metrics.put("logps/rejected", statistics.meanRejectedLogProb());
        return metrics;
    }

    @Override
    public Path saveCheckpoint() throws IOException {
        lastCheckpoint = checkpoints.save(step, lastLoss, directory -> {
            if (precomputedReference == null || model.adapters().isPresent()) {
                return List.of();
            }
            Map<String, float[]> vectors = new LinkedHashMap<>();
            vectors.put("chosen", precomputedReference.chosen());
            vectors.put("rejected", precomputedReference.rejected());
            TensorFiles.writeVectors(directory.resolve(REFERENCE_FILE), vectors);
            return List.of(REFERENCE_FILE);
        });
        listener.onCheckpoint(step, lastCheckpoint);
        return lastCheckpoint;
    }

    @Override
    public void requestStop() {
        stopRequested = true;
    }

    @Override
    public TrainableModel model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The tokenized training pairs. */
    public List<PreferencePair> pairs() {
        return pairs;
    }

    /** The id that pads batches. */
    public long padId() {
        return padId;
    }

    @Override
    public void cleanup() {
        if (optimization != null) {
            optimization.close();
        }
        if (model != null) {
            model.close();
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
