package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.model.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Named fp32 tensors to and from one safetensors file: weights, optimizer moments, reference log-probs. */
final class TensorFiles {
    private TensorFiles() {}

    /** Writes live arrays by name, in map order, exactly (fp32). */
    static void writeArrays(Path file, Map<String, NDArray> arrays, Map<String, String> metadata) throws IOException {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        arrays.forEach((name, array) -> entries.add(
                SafetensorsWriter.floats(name, array.getShape().getShape(), array.toFloatArray(), DType.F32)));
        SafetensorsWriter.write(file, entries, metadata);
    }

    static void writeParameters(Path file, Map<String, Parameter> parameters) throws IOException {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        parameters.forEach((name, parameter) -> arrays.put(name, parameter.array()));
        writeArrays(file, arrays, Map.of("format", "pt"));
    }

    /** Writes one-dimensional Java arrays. */
    static void writeVectors(Path file, Map<String, float[]> vectors) throws IOException {
        writeVectors(file, vectors, Map.of());
    }

    /** Writes one-dimensional Java arrays with header metadata (what they were computed from). */
    static void writeVectors(Path file, Map<String, float[]> vectors, Map<String, String> metadata) throws IOException {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        vectors.forEach((name, values) ->
                entries.add(SafetensorsWriter.floats(name, new long[] {values.length}, values, DType.F32)));
        SafetensorsWriter.write(file, entries, metadata);
    }

    /** The header metadata of a file. */
    static Map<String, String> metadata(Path file) throws CheckpointException {
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            return reader.metadata();
        }
    }

    /** Every tensor of a file as fp32 values by name. */
    static Map<String, float[]> read(Path file) throws CheckpointException {
        Map<String, float[]> values = new LinkedHashMap<>();
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            for (String name : reader.names()) {
                values.put(name, reader.readFloats(name));
            }
        }
        return values;
    }

    /**
     * Copies saved values into the parameters, in place (the arrays keep their identity, so
     * gradients flags and optimizer state stay attached).
     *
     * @throws CheckpointException if a parameter is missing or has another size
     */
    static void copyInto(Path file, Map<String, Parameter> parameters) throws CheckpointException {
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            for (Map.Entry<String, Parameter> entry : parameters.entrySet()) {
                String name = entry.getKey();
                if (!reader.names().contains(name)) {
                    throw new CheckpointException(file, name, "is missing: the checkpoint does not match this model");
                }
                float[] values = reader.readFloats(name);
                NDArray target = entry.getValue().array();
                if (values.length != target.getShape().size()) {
                    throw new CheckpointException(
                            file,
                            name,
                            values.length + " values, the parameter has "
                                    + target.getShape().size());
                }
                target.set(values);
            }
        }
    }
}
