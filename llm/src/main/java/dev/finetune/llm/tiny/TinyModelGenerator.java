package dev.finetune.llm.tiny;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.EngineArrays;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes randomly initialised models in full HuggingFace layout (config.json, model.safetensors
 * and, through {@link TokenizerFiles}, tokenizer files), for tests and local runs: model weights are
 * never downloaded. The same config and seed always give the same bytes.
 */
public final class TinyModelGenerator {

    /**
     * Standard deviations of the random weights.
     *
     * @param weight linear layers
     * @param embedding token embedding
     * @param norm RMSNorm weights are {@code 1 + N(0, norm)}
     * @param bias biases
     */
    public record Initialization(double weight, double embedding, double norm, double bias) {
        /**
         * Larger than HuggingFace's init (0.02, norms 1, biases 0) so that a tiny model's
         * distributions are peaked and every parameter, biases and norms included, changes the output.
         */
        public static final Initialization TEST = new Initialization(0.2, 0.5, 0.1, 0.1);

        /** HuggingFace's {@code _init_weights}: N(0, initializer_range), norms 1, biases 0. */
        public static Initialization huggingFace(ModelConfig config) {
            return new Initialization(config.initializerRange(), config.initializerRange(), 0, 0);
        }
    }

    private TinyModelGenerator() {}

    /** Writes a model with {@link Initialization#TEST} weights in fp32 and no tokenizer files. */
    public static void write(ModelConfig config, long seed, Path directory) throws IOException {
        write(config, seed, Initialization.TEST, DType.F32, TokenizerFiles.NONE, directory);
    }

    public static void write(
            ModelConfig config, long seed, Initialization init, DType dtype, TokenizerFiles tokenizer, Path directory)
            throws IOException {
        Files.createDirectories(directory);
        try (CausalLm model = new CausalLm(config, Device.cpu())) {
            randomize(model, seed, init);
            model.save(directory, dtype);
        }
        tokenizer.write(directory, config);
    }

    /** Creates a model in memory with random weights, on {@code device}. */
    public static CausalLm create(ModelConfig config, long seed, Initialization init, Device device) {
        CausalLm model = new CausalLm(config, device);
        randomize(model, seed, init);
        return model;
    }

    /** Sets every parameter, in declaration order, from one seeded generator. */
    public static void randomize(CausalLm model, long seed, Initialization init) {
        SplittableRandom random = new SplittableRandom(seed);
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            String name = entry.getKey();
            Shape shape = entry.getValue().shape();
            float[] values = new float[Math.toIntExact(shape.size())];
            double std;
            double mean = 0;
            if (name.endsWith("norm.weight")) {
                std = init.norm();
                mean = 1;
            } else if (name.endsWith(".bias")) {
                std = init.bias();
            } else if (name.equals("model.embed_tokens.weight")) {
                std = init.embedding();
            } else {
                std = init.weight();
            }
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (mean + std * random.nextGaussian());
            }
            // copied into an engine-owned array: a direct buffer per tensor would hold a real-size
            // model's memory a second time until a GC runs (the 1.7B shape hit the direct-memory limit)
            NDArray array = EngineArrays.of(model.manager(), values, shape);
            entry.getValue().set(array);
        }
    }
}
