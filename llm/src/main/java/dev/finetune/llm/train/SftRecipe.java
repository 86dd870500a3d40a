package dev.finetune.llm.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.Packing;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Supervised fine-tuning: conversations rendered with the model's chat template, loss on the
 * assistant's tokens, optionally packed; full fine-tuning, LoRA or QLoRA. Each micro-batch runs in
 * its own NDScope, so the step's arrays are freed when it ends and memory stays flat.
 */
public final class SftRecipe implements Recipe {
    private final TrainConfig config;
    private final TrainingListener listener;
    private volatile boolean stopRequested;

    private Tokenizer tokenizer;
    private TrainableModel model;
    private Optimization optimization;
    private BatchPlan plan;
    private RunCheckpoints checkpoints;
    private List<TrainingSequence> items;
    private long padId;
    private int step;
    private int resumedFrom;
    private double lastLoss = Double.NaN;
    private Path lastCheckpoint;

    public SftRecipe(TrainConfig config, TrainingListener listener) {
        this.config = config;
        this.listener = listener;
    }

    @Override
    public void setup() throws IOException {
        TrainingArguments arguments = config.training();
        tokenizer = Tokenizer.load(config.model());
        items = encode(ChatDatasets.conversations(config.trainFile()));
        plan = BatchPlan.of(items.size(), arguments);
        model = TrainableModel.prepare(CausalLm.load(config.model()), config.method(), config.lora(), arguments.seed());
        padId = RecipeSupport.padId(tokenizer, model.model());
        optimization = new Optimization(model, arguments, plan.totalSteps());
        checkpoints = new RunCheckpoints(config, model, optimization, plan, fingerprint());
        Optional<TrainerState> resumed = checkpoints.resume(directory -> {});
        resumed.ifPresent(state -> {
            step = state.globalStep();
            lastLoss = state.loss();
            lastCheckpoint = config.outputDir().resolve("checkpoint-" + step);
        });
        resumedFrom = step;
    }

    /** Tokenized examples, or packed rows of them; examples with nothing to learn are dropped. */
    private List<TrainingSequence> encode(List<List<ChatMessage>> conversations) {
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        int maxLength = config.training().maxSeqLength();
        List<TrainingSequence> sequences = new ArrayList<>();
        for (List<ChatMessage> conversation : conversations) {
            encoder.sft(conversation, config.sft().assistantOnlyLoss(), maxLength)
                    .ifPresent(sequences::add);
        }
        return config.sft().packing() ? Packing.pack(sequences, maxLength) : sequences;
    }

    private String fingerprint() {
        DataFingerprint fingerprint = new DataFingerprint().add(config.sft().packing() ? "packed" : "padded");
        for (TrainingSequence item : items) {
            fingerprint.add(item.ids()).add(item.positions()).add(item.targets());
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
                lastLoss = outcome.loss();
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
                        Map.of()));
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

    private record StepOutcome(double loss, Optimization.Update update, int tokens) {}

    /** Accumulates the gradients of step {@code index}'s micro-batches, then updates the weights. */
    @SuppressWarnings("try")
    private StepOutcome runStep(int index) {
        List<SftBatch> batches = new ArrayList<>();
        for (int[] micro : plan.microBatches(index)) {
            List<TrainingSequence> rows = new ArrayList<>();
            for (int item : micro) {
                rows.add(items.get(item));
            }
            batches.add(SftBatch.of(rows, padId, config.sft().packing()));
        }
        int windowTargets = batches.stream().mapToInt(SftBatch::targetCount).sum();
        model.beginStep(config.training().seed(), index);
        CausalLm lm = model.model();
        double loss = 0;
        int tokens = 0;
        for (SftBatch batch : batches) {
            try (NDScope ignored = new NDScope()) {
                NDManager manager = lm.manager();
                loss += optimization.accumulate(
                        () -> SftLoss.windowMean(batch.logits(lm, manager), batch, windowTargets, manager));
            }
            tokens += batch.tokenCount();
        }
        return new StepOutcome(loss, optimization.update(index), tokens);
    }

    @Override
    public Path saveCheckpoint() throws IOException {
        lastCheckpoint = checkpoints.save(step, lastLoss, directory -> List.of());
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

    public BatchPlan plan() {
        return plan;
    }

    /** The training items: tokenized examples, or packed rows. */
    public List<TrainingSequence> items() {
        return items;
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
