package dev.finetune.llm.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * The sampling defaults a model ships in {@code generation_config.json}, read as transformers'
 * {@code GenerationConfig} reads them: {@code do_sample} (false), {@code temperature} (1.0), {@code
 * top_k} (50), {@code top_p} (1.0) and {@code max_new_tokens} (none), each default applying when the
 * field is absent or null. Without {@code do_sample} the other three do not matter: decoding is
 * greedy, as in transformers. Qwen3's file, for one, asks for sampling at temperature 0.6, top-k 20,
 * top-p 0.95. The stop ids ({@code eos_token_id}) are read with the tokenizer.
 *
 * @param doSample sample (true) or take the argmax (false)
 * @param temperature &gt; 0 when sampling
 * @param topK 0 = no limit
 * @param topP in (0, 1]
 * @param maxNewTokens the file's {@code max_new_tokens}, if it has one
 */
public record GenerationDefaults(
        boolean doSample, double temperature, int topK, double topP, OptionalInt maxNewTokens) {
    public static final String FILE_NAME = "generation_config.json";

    /** transformers' defaults, for a model without the file. */
    public static final GenerationDefaults TRANSFORMERS =
            new GenerationDefaults(false, 1.0, 50, 1.0, OptionalInt.empty());

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The defaults of the model in {@code modelDir}: its file's, else {@link #TRANSFORMERS}. */
    public static GenerationDefaults of(Path modelDir) throws CheckpointException {
        Path file = modelDir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return TRANSFORMERS;
        }
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, null, "is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot be read: " + e, e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, null, "is not a JSON object");
        }
        Fields f = new Fields(root, file);
        boolean doSample = f.optionalBoolean("do_sample", false);
        double temperature = f.optionalDouble("temperature", TRANSFORMERS.temperature());
        int topK = f.optionalInt("top_k", TRANSFORMERS.topK());
        double topP = f.optionalDouble("top_p", TRANSFORMERS.topP());
        OptionalInt maxNewTokens =
                f.present("max_new_tokens") ? OptionalInt.of(f.optionalInt("max_new_tokens", 0)) : OptionalInt.empty();
        if (doSample && !(temperature > 0 && Double.isFinite(temperature))) {
            throw f.error("temperature", "must be positive when do_sample is true, got " + temperature);
        }
        if (topK < 0) {
            throw f.error("top_k", "must be 0 (no limit) or positive, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw f.error("top_p", "must be in (0, 1], got " + topP);
        }
        if (maxNewTokens.isPresent() && maxNewTokens.getAsInt() < 1) {
            throw f.error("max_new_tokens", "must be a positive integer, got " + maxNewTokens.getAsInt());
        }
        return new GenerationDefaults(doSample, temperature, topK, topP, maxNewTokens);
    }
}
