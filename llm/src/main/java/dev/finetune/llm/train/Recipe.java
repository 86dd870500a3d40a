package dev.finetune.llm.train;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A training program with the lifecycle every recipe shares: {@link #setup} loads model, data and
 * (if the job allows and one exists) the newest checkpoint; {@link #train} runs to the last step,
 * checkpointing on the way and at the end; {@link #saveCheckpoint} writes one now; {@link #cleanup}
 * frees the model. Recipes share one {@link TrainingLoop} (data order, accumulation, optimizer,
 * checkpoints, progress) and differ in their data and their {@link ObjectiveStep}; {@link
 * Recipes#create} picks a job's.
 */
public interface Recipe extends AutoCloseable {
    void setup() throws IOException;

    TrainResult train() throws IOException;

    /** Writes a resumable checkpoint of the current step and returns its directory. */
    Path saveCheckpoint() throws IOException;

    /**
     * Asks {@link #train} to return after the micro-batch in progress, a step cut short left unapplied
     * (thread-safe; no checkpoint is forced).
     */
    void requestStop();

    void cleanup();

    /** The model being trained, after {@link #setup} (for evaluation between or after runs). */
    TrainableModel model();

    @Override
    default void close() {
        cleanup();
    }
}
