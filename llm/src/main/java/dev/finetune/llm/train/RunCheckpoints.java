package dev.finetune.llm.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Saving and resuming one run, shared by the recipes: a checkpoint holds the trained weights, the
 * optimizer moments (and with fp16 the loss scaler's state, {@link LossScalerFile}), the manifest (step, schedule, seeds, data position) and whatever the recipe
 * adds (DPO's reference log-probabilities). Resuming checks that the run's plan (data fingerprint,
 * batch layout, steps, seed, method) is the checkpoint's, so the continuation is exact.
 */
final class RunCheckpoints {
    private final TrainConfig config;
    private final TrainableModel model;
    private final Optimization optimization;
    private final BatchPlan plan;
    private final TrainerState.Plan planRecord;
    private final TrainingCheckpoints checkpoints;

    RunCheckpoints(
            TrainConfig config, TrainableModel model, Optimization optimization, BatchPlan plan, String fingerprint) {
        this.config = config;
        this.model = model;
        this.optimization = optimization;
        this.plan = plan;
        this.planRecord = new TrainerState.Plan(
                config.method().configName(),
                config.objective().code(),
                plan.items(),
                fingerprint,
                plan.batchSize(),
                plan.accumulation(),
                plan.totalSteps(),
                plan.seed());
        this.checkpoints =
                new TrainingCheckpoints(config.outputDir(), config.training().saveTotalLimit());
    }

    /** Restores recipe-specific state from a checkpoint directory. */
    @FunctionalInterface
    interface Extra {
        void restore(Path directory) throws IOException;
    }

    /**
     * Restores the newest complete checkpoint if the job resumes and one exists; removes leftovers of
     * crashed saves first.
     *
     * @return the restored manifest
     * @throws TrainConfigException if the checkpoint belongs to another run (another plan)
     * @throws IOException if it cannot be read
     */
    Optional<TrainerState> resume(Extra extra) throws IOException {
        checkpoints.removeIncomplete();
        if (!config.resume()) {
            return Optional.empty();
        }
        Optional<Path> latest = checkpoints.latest();
        if (latest.isEmpty()) {
            return Optional.empty();
        }
        Path directory = latest.get();
        TrainerState state = TrainerState.read(directory.resolve(TrainingCheckpoints.MANIFEST));
        if (!state.plan().equals(planRecord)) {
            throw new TrainConfigException(directory + " was written by another run: its plan is " + state.plan()
                    + ", this job's is " + planRecord + "; use another output_dir or set resume: false");
        }
        model.loadTrainable(directory);
        TrainingCheckpoints.restoreOptimizer(directory, optimization.optimizer(), state.optimizerStep());
        if (optimization.lossScaler().isPresent()) {
            LossScalerFile.restore(directory, optimization);
        }
        extra.restore(directory);
        return Optional.of(state);
    }

    /** Where checkpoint {@code step} is (or would be) written. */
    Path directoryOf(int step) {
        return checkpoints.directoryOf(step);
    }

    /** Writes checkpoint {@code step} with the evaluations so far and the recipe's extra files. */
    Path save(int step, double loss, EvalTracker evaluations, TrainingCheckpoints.Contents extra) throws IOException {
        evaluations.saving(step, directoryOf(step).toString());
        int epoch = plan.epochOf(step);
        int microBatch = plan.microBatchOf(step);
        TrainerState state = new TrainerState(
                TrainerState.FORMAT_VERSION,
                step,
                plan.epochsAfter(step),
                loss,
                planRecord,
                new TrainerState.Schedule(
                        optimization.schedule().type().configName(),
                        optimization.schedule().peak(),
                        optimization.schedule().warmupSteps(),
                        optimization.schedule().totalSteps(),
                        step == 0
                                ? 0
                                : optimization.schedule().rate(Math.max(0, step - 1 - optimization.skippedSteps()))),
                optimization.optimizer().step(),
                TrainerState.Rng.of(plan.seed()),
                new TrainerState.DataPosition(epoch, microBatch),
                null,
                evaluations.logHistory(),
                evaluations.bestMetric(),
                evaluations.bestStep(),
                evaluations.bestCheckpoint(),
                evaluations.patienceCounter());
        return checkpoints.write(
                step,
                directory -> {
                    List<String> files = new ArrayList<>(model.saveTrainable(directory, config.model()));
                    files.add(TrainingCheckpoints.writeOptimizer(directory, optimization.optimizer()));
                    if (optimization.lossScaler().isPresent()) {
                        files.add(LossScalerFile.write(directory, optimization));
                    }
                    files.addAll(extra.writeInto(directory));
                    return files;
                },
                state);
    }

    /**
     * Writes the trained result into {@code <output>/final}: into a temporary directory first, then
     * moved into place (replacing an earlier export).
     */
    Path export() throws IOException {
        Path target = config.outputDir().resolve("final");
        Path temporary = config.outputDir().resolve(".tmp-final-" + System.nanoTime());
        try {
            model.export(temporary, config.model());
            TrainingCheckpoints.deleteRecursively(target);
            Files.move(temporary, target);
        } catch (IOException | RuntimeException e) {
            TrainingCheckpoints.deleteRecursively(temporary);
            throw e;
        }
        return target;
    }
}
