package dev.finetune.llm.cli;

import dev.finetune.llm.checkpoint.Checkpoint;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.checkpoint.TensorSource;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.tiny.TokenizerFiles;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code llm init-tiny}: a randomly initialised model in full HuggingFace layout (config.json,
 * model.safetensors, tokenizer.json, tokenizer_config.json) for local runs and tests. The
 * tokenizer is the tokenizer package's tiny byte-level BPE with a ChatML template; the model's
 * vocabulary is sized to it and its eos/pad ids are the tokenizer's. Weights use
 * {@link TinyModelGenerator.Initialization#TEST}, so the random model's distributions are peaked.
 */
@Command(
        name = "init-tiny",
        mixinStandardHelpOptions = true,
        header = "Writes a randomly initialised model in HuggingFace layout.",
        description = "Writes a randomly initialised model (config, weights, tokenizer) and prints what it wrote.")
final class InitTinyCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(
            names = "--type",
            required = true,
            paramLabel = "TYPE",
            converter = Converters.ModelTypeConverter.class,
            description = "llama, mistral, qwen2 or qwen3.")
    private ModelType type;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "New or empty directory.")
    private Path out;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Weight seed (default 0).")
    private long seed;

    @Option(names = "--hidden", paramLabel = "C", description = "Hidden size, a multiple of 16 (default 64).")
    private Integer hidden;

    @Option(names = "--layers", paramLabel = "L", description = "Decoder layers (default 2).")
    private Integer layers;

    @Option(
            names = "--params",
            paramLabel = "COUNT",
            converter = Converters.ParameterCountConverter.class,
            description = "Target parameter count (20M, 500K, 1.5B); sets whichever of --hidden and --layers"
                    + " is not given.")
    private Long params;

    @Option(
            names = "--dtype",
            paramLabel = "f32|bf16",
            defaultValue = "f32",
            converter = Converters.WeightTypeConverter.class,
            description = "Stored weight type (default f32).")
    private DType dtype;

    @Override
    public Integer call() throws IOException {
        validateFlags();
        TinyTokenizerWriter.write(out);
        // The model's vocabulary and special ids are the tokenizer's, read back from the files just written.
        ModelConfig config = resize(TinyModels.withTokenizer(TinyModels.config(type), out));
        TinyModelGenerator.write(config, seed, TinyModelGenerator.Initialization.TEST, dtype, TokenizerFiles.NONE, out);
        report(config);
        return 0;
    }

    private void validateFlags() throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new ParameterException(spec.commandLine(), "--out: '" + out + "' is a file, not a directory");
        }
        if (Files.isDirectory(out)) {
            try (Stream<Path> entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new ParameterException(
                            spec.commandLine(), "--out: directory '" + out + "' is not empty; choose a new one");
                }
            }
        }
        if (hidden != null && (hidden <= 0 || hidden % 16 != 0)) {
            throw new ParameterException(
                    spec.commandLine(), "--hidden: must be a positive multiple of 16, got " + hidden);
        }
        if (layers != null && layers <= 0) {
            throw new ParameterException(spec.commandLine(), "--layers: must be a positive integer, got " + layers);
        }
        if (params != null && hidden != null && layers != null) {
            throw new ParameterException(
                    spec.commandLine(), "--params: sets --hidden or --layers, so it cannot be given with both");
        }
    }

    private ModelConfig resize(ModelConfig config) {
        ModelConfig shaped = hidden == null ? config : ModelSizing.withHidden(config, hidden);
        ModelConfig layered = layers == null ? shaped : ModelSizing.withLayers(shaped, layers);
        if (params == null) {
            return layered;
        } else if (hidden != null) {
            return ModelSizing.layersFor(layered, params);
        } else if (layers != null) {
            return ModelSizing.hiddenFor(layered, params);
        }
        return ModelSizing.forParameters(config, params);
    }

    private void report(ModelConfig config) throws IOException {
        long parameters = 0;
        try (Checkpoint checkpoint = Checkpoint.open(out)) {
            TensorSource tensors = checkpoint.tensors();
            for (String name : tensors.names()) {
                parameters += tensors.info(name).elementCount();
            }
        }
        List<Path> files;
        try (Stream<Path> entries = Files.list(out)) {
            files = entries.sorted().toList();
        }
        PrintWriter printer = spec.commandLine().getOut();
        printer.printf(
                Locale.ROOT,
                "Wrote a %s model to %s: %d layers, hidden %d, %d heads (%d key/value, head dim %d), MLP %d,"
                        + " vocab %d, %s weights, seed %d%n",
                type.hfName(),
                out,
                config.numHiddenLayers(),
                config.hiddenSize(),
                config.numAttentionHeads(),
                config.numKeyValueHeads(),
                config.headDim(),
                config.intermediateSize(),
                config.vocabSize(),
                dtype.name().toLowerCase(Locale.ROOT),
                seed);
        printer.printf(Locale.ROOT, "  %-24s %,15d%n", "parameters", parameters);
        long total = 0;
        for (Path file : files) {
            long size = Files.size(file);
            total += size;
            printer.printf(Locale.ROOT, "  %-24s %,15d bytes%n", file.getFileName(), size);
        }
        printer.printf(Locale.ROOT, "  %-24s %,15d bytes%n", "total", total);
        printer.flush();
    }
}
