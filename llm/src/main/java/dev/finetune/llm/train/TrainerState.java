package dev.finetune.llm.train;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The manifest of a checkpoint, {@code trainer_state.json}, written last: a checkpoint directory
 * without it is incomplete and never resumed from. It records where the run is (step, epoch, data
 * position), how to continue it identically (schedule, optimizer step, seeds) and which files belong
 * to the checkpoint with their sizes (checked on load, so a truncated file is not trusted).
 *
 * @param formatVersion {@value #FORMAT_VERSION}
 * @param globalStep optimizer steps completed
 * @param epoch fractional epochs completed
 * @param loss mean loss of the last step
 * @param plan what fixes the data order; a resumed run must have the same
 * @param schedule the learning-rate schedule and the rate of the last step
 * @param optimizerStep AdamW's t (its bias correction)
 * @param rng the random state: every random draw of a run derives from the seed and the step or epoch
 * @param data where the next step starts in the data
 * @param files the checkpoint's files and their sizes in bytes
 * @param logHistory transformers' log: one entry per evaluation ({@code eval_loss}, ..., {@code epoch},
 *     {@code step}); null in checkpoints written before evaluations existed
 * @param bestMetric the best value of metric_for_best_model so far, or null
 * @param bestGlobalStep the step that reached it, or null
 * @param bestModelCheckpoint the checkpoint directory of that step once it is saved, or null
 * @param earlyStoppingPatienceCounter evaluations in a row without improvement (transformers keeps it
 *     in EarlyStoppingCallback's state), so a resumed run stops where an uninterrupted one does
 */
public record TrainerState(
        int formatVersion,
        int globalStep,
        double epoch,
        double loss,
        Plan plan,
        Schedule schedule,
        int optimizerStep,
        Rng rng,
        DataPosition data,
        Map<String, Long> files,
        List<Map<String, Object>> logHistory,
        Double bestMetric,
        Integer bestGlobalStep,
        String bestModelCheckpoint,
        int earlyStoppingPatienceCounter) {

    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * What determines which data each step sees and the schedule: a checkpoint resumes only into a
     * run with the same plan.
     */
    public record Plan(
            String method,
            String objective,
            int items,
            String dataFingerprint,
            int batchSize,
            int gradientAccumulationSteps,
            int totalSteps,
            long seed) {}

    public record Schedule(
            String type, double peakLearningRate, int warmupSteps, int totalSteps, double learningRate) {}

    /**
     * @param seed the run's seed
     * @param dataOrder how each epoch's permutation derives from it
     * @param dropout how each step's dropout masks derive from it
     */
    public record Rng(long seed, String dataOrder, String dropout) {
        static Rng of(long seed) {
            return new Rng(
                    seed,
                    "Fisher-Yates with SplittableRandom(seed * 0x9E3779B97F4A7C15 + epoch)",
                    "per step: SplittableRandom(seed * 0x9E3779B97F4A7C15 + step).nextLong()");
        }
    }

    /** @param epoch the epoch of the next step, 0-based; {@code microBatch} its first micro-batch */
    public record DataPosition(int epoch, int microBatch) {}

    /** This manifest listing {@code value} as its files. */
    TrainerState withFiles(Map<String, Long> value) {
        return new TrainerState(
                formatVersion,
                globalStep,
                epoch,
                loss,
                plan,
                schedule,
                optimizerStep,
                rng,
                data,
                value,
                logHistory,
                bestMetric,
                bestGlobalStep,
                bestModelCheckpoint,
                earlyStoppingPatienceCounter);
    }

    void write(Path file) throws IOException {
        JSON.writeValue(file.toFile(), this);
    }

    static TrainerState read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), TrainerState.class);
    }
}
