package dev.finetune.llm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.llm.optim.LossScaler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The fp16 loss scaler's state in a checkpoint, {@code scaler.json}: torch's {@code
 * GradScaler.state_dict()} keys ({@code scale}, {@code growth_factor}, {@code backoff_factor}, {@code
 * growth_interval}, {@code _growth_tracker}; transformers saves them as {@code scaler.pt}) and {@code
 * skipped_steps}, the optimizer steps skipped so far, which the learning-rate schedule is behind by.
 */
final class LossScalerFile {
    static final String FILE_NAME = "scaler.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private LossScalerFile() {}

    /** Writes the state of {@code optimization}'s scaler into {@code directory}; returns the file name. */
    static String write(Path directory, Optimization optimization) throws IOException {
        LossScaler scaler = optimization.lossScaler().orElseThrow();
        ObjectNode state = JSON.createObjectNode();
        state.put("scale", scaler.scale());
        state.put("growth_factor", LossScaler.GROWTH_FACTOR);
        state.put("backoff_factor", LossScaler.BACKOFF_FACTOR);
        state.put("growth_interval", scaler.growthInterval());
        state.put("_growth_tracker", scaler.growthTracker());
        state.put("skipped_steps", optimization.skippedSteps());
        Files.writeString(
                directory.resolve(FILE_NAME),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state));
        return FILE_NAME;
    }

    /**
     * Restores {@code optimization}'s scaler from {@code directory}'s {@code scaler.json}.
     *
     * @throws IOException if the file is missing or a field is absent or invalid, naming the file and field
     */
    static void restore(Path directory, Optimization optimization) throws IOException {
        Path file = directory.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            throw new IOException(file + " is missing: the run uses fp16, and this checkpoint was written without"
                    + " it (resume with fp16 false, or start a new output_dir)");
        }
        JsonNode state = JSON.readTree(file.toFile());
        try {
            optimization.restoreLossScaler(
                    number(state, "scale", file).asDouble(),
                    number(state, "_growth_tracker", file).asInt(),
                    number(state, "skipped_steps", file).asInt());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode number(JsonNode state, String field, Path file) throws IOException {
        JsonNode value = state.get(field);
        if (value == null || !value.isNumber()) {
            throw new IOException(file + ": field " + field + " must be a number, got " + value);
        }
        return value;
    }
}
