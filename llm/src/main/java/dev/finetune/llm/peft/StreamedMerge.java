package dev.finetune.llm.peft;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.llm.checkpoint.Checkpoint;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.FloatFormats;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.checkpoint.ShardedSafetensors;
import dev.finetune.llm.checkpoint.TensorInfo;
import dev.finetune.llm.checkpoint.TensorSource;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.lora.LoraLinear;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.commons.io.file.PathUtils;

/**
 * Merges a PEFT LoRA adapter into its base model on disk, tensor by tensor, without loading the
 * model: {@code W' = W + B A * scaling} for each adapted linear, for a DoRA adapter each row of that
 * times {@code m / ||W + B A * scaling||} (PEFT's {@code merge_and_unload} then {@code
 * save_pretrained}), every other tensor copied byte for byte. Memory: the adapter, one fp32 {@code
 * B A} of the largest adapted linear and a few MB of buffers, whatever the model's size. DoRA reads
 * each adapted base weight twice: once for the row norms, once to write.
 *
 * <p>The output is a HuggingFace checkpoint in the base's own dtypes (a bf16 base gives bf16
 * weights): each merged weight is computed in fp32 from the exactly widened base values and rounded
 * once to the tensor's dtype, to nearest even. That is what merging an fp32 copy of the base and
 * rounding gives, bit for bit (PEFT on a bf16 model rounds the delta to bf16 before adding, one
 * rounding more). Tensor names and order, the shard size limit and {@code config.json} are the
 * base's; companion files (tokenizer, generation config) are copied as they are.
 *
 * <p>Like PEFT's {@code safe_merge}, a merged weight with a NaN or infinite value (or one beyond the
 * range of a 16-bit dtype) is refused, naming the tensor. The checkpoint is written into a temporary
 * sibling directory, its index last, and moved into place only when complete: a failed or
 * interrupted merge leaves nothing at the destination.
 *
 * <p>For QLoRA adapters this merges into the original base weights, not their NF4 round trip: what
 * PEFT recommends (load the base in 16 bits, then merge).
 */
public final class StreamedMerge {
    /** Values merged per pass over a weight: 1 MB of fp32 base values and up to 1 MB of output. */
    private static final int CHUNK_VALUES = 1 << 18;

    private StreamedMerge() {}

    /**
     * Writes the merge of {@code adapterDirectory} (PEFT layout) into {@code baseModel} (HuggingFace
     * layout, single file or sharded) to {@code out}, which must not exist yet.
     *
     * @param maxShardBytes the largest shard file; one file holds everything if it fits
     * @throws CheckpointException naming the file and tensor when the adapter does not fit the base
     *     or the merge produces non-finite values
     */
    public static void write(Path baseModel, Path adapterDirectory, Path out, long maxShardBytes) throws IOException {
        if (Files.exists(out)) {
            throw new FileAlreadyExistsException(out.toString(), null, "the merged checkpoint's directory exists");
        }
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path partial = Files.createDirectory(parent.resolve(out.getFileName() + ".partial-" + UUID.randomUUID()));
        try (Checkpoint base = Checkpoint.open(baseModel);
                Adapter adapter = Adapter.open(adapterDirectory, base.tensors())) {
            writeWeights(base.tensors(), adapter, partial, maxShardBytes);
            Files.copy(baseModel.resolve(ModelConfigJson.FILE_NAME), partial.resolve(ModelConfigJson.FILE_NAME));
            for (String name : MergedCheckpoint.COMPANION_FILES) {
                Path source = baseModel.resolve(name);
                if (Files.isRegularFile(source)) {
                    Files.copy(source, partial.resolve(name));
                }
            }
            Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException | Error e) {
            try {
                PathUtils.delete(partial);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private static void writeWeights(TensorSource base, Adapter adapter, Path directory, long maxShardBytes)
            throws IOException {
        List<TensorInfo> tensors = new ArrayList<>();
        for (String name : base.names()) {
            tensors.add(base.info(name));
        }
        List<List<TensorInfo>> shards = SafetensorsWriter.shards(tensors, TensorInfo::byteSize, maxShardBytes);
        Map<String, String> weightMap = new LinkedHashMap<>();
        long totalSize = 0;
        for (int i = 0; i < shards.size(); i++) {
            String file =
                    shards.size() == 1 ? Checkpoint.SINGLE_FILE : ShardedSafetensors.shardFileName(i, shards.size());
            List<SafetensorsWriter.Layout> layouts = shards.get(i).stream()
                    .map(t -> new SafetensorsWriter.Layout(t.name(), t.dtype(), t.shape()))
                    .toList();
            try (SafetensorsWriter.Streaming shard =
                    SafetensorsWriter.open(directory.resolve(file), layouts, Map.of("format", "pt"))) {
                for (TensorInfo tensor : shards.get(i)) {
                    if (adapter.adapts(tensor.name())) {
                        writeMerged(base, adapter, tensor, shard);
                    } else {
                        base.copyBytes(tensor.name(), shard.channel());
                    }
                    weightMap.put(tensor.name(), file);
                    totalSize += tensor.byteSize();
                }
                shard.finish();
            }
        }
        if (shards.size() > 1) {
            ShardedSafetensors.writeIndex(directory, weightMap, totalSize); // last: the shards are complete
        }
    }

    /**
     * {@code W + (B A) * scaling} for one weight [O, I] (with DoRA each row times {@code m / ||W + (B A) *
     * scaling||}), a chunk at a time, in the base tensor's dtype.
     */
    @SuppressWarnings("try")
    private static void writeMerged(
            TensorSource base, Adapter adapter, TensorInfo tensor, SafetensorsWriter.Streaming out) throws IOException {
        DType dtype = tensor.dtype();
        long count = tensor.elementCount();
        long columns = tensor.shape()[1];
        float[] weights = new float[(int) Math.min(CHUNK_VALUES, count)];
        ByteBuffer encoded = ByteBuffer.allocate(weights.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            // The engine's matmul, as LoraLinear.deltaWeight computes it, so the sums round alike; the
            // scaling and the addition are single fp32 operations, the same in Java as in the engine.
            NDArray delta = adapter.b(tensor.name(), manager).matMul(adapter.a(tensor.name(), manager)); // [O, I]
            FloatBuffer deltas = delta.toByteBuffer(true).asFloatBuffer(); // a view of the engine's memory
            float scaling = adapter.scaling();
            float[] rowFactors = adapter.dora()
                    ? doraFactors(base, tensor, deltas, scaling, adapter.magnitude(tensor.name()), weights)
                    : null;
            for (long first = 0; first < count; first += weights.length) {
                int n = (int) Math.min(weights.length, count - first);
                base.readFloats(tensor.name(), first, weights, 0, n);
                encoded.clear();
                for (int i = 0; i < n; i++) {
                    float merged = weights[i] + deltas.get((int) (first + i)) * scaling;
                    if (rowFactors != null) {
                        merged = rowFactors[(int) ((first + i) / columns)] * merged;
                    }
                    if (!put(encoded, dtype, merged)) {
                        long at = first + i;
                        throw new CheckpointException(
                                adapter.weightsFile(),
                                tensor.name(),
                                "merging the adapter gives " + merged + " at [" + at / columns + ", " + at % columns
                                        + "]" + (Float.isFinite(merged) ? ", beyond the range of " + dtype : "")
                                        + ": the adapter is broken (PEFT's safe_merge refuses non-finite merged"
                                        + " weights too); nothing was written");
                    }
                }
                encoded.flip();
                out.write(encoded);
            }
        }
    }

    /**
     * DoRA's {@code m / ||W + (B A) * scaling||} for each row of one weight [O], from a pass over the
     * base values a chunk at a time ({@code buffer} is the chunk), each sum of squares in double.
     */
    private static float[] doraFactors(
            TensorSource base, TensorInfo tensor, FloatBuffer deltas, float scaling, float[] magnitude, float[] buffer)
            throws IOException {
        long count = tensor.elementCount();
        long columns = tensor.shape()[1];
        double[] squares = new double[magnitude.length];
        for (long first = 0; first < count; first += buffer.length) {
            int n = (int) Math.min(buffer.length, count - first);
            base.readFloats(tensor.name(), first, buffer, 0, n);
            for (int i = 0; i < n; i++) {
                float merged = buffer[i] + deltas.get((int) (first + i)) * scaling;
                squares[(int) ((first + i) / columns)] += (double) merged * merged;
            }
        }
        float[] factors = new float[magnitude.length];
        for (int row = 0; row < factors.length; row++) {
            factors[row] = magnitude[row] / (float) Math.sqrt(squares[row]);
        }
        return factors;
    }

    /** Appends {@code value} in {@code dtype}; false if it is not finite there. */
    private static boolean put(ByteBuffer into, DType dtype, float value) {
        switch (dtype) {
            case F32 -> {
                into.putFloat(value);
                return Float.isFinite(value);
            }
            case BF16 -> {
                short bits = FloatFormats.floatToBf16(value);
                into.putShort(bits);
                return Float.isFinite(FloatFormats.bf16ToFloat(bits));
            }
            case F16 -> {
                short bits = FloatFormats.floatToHalf(value);
                into.putShort(bits);
                return Float.isFinite(FloatFormats.halfToFloat(bits));
            }
            default -> throw new IllegalStateException("not a float dtype: " + dtype);
        }
    }

    /** The adapter's LoRA matrices (and DoRA magnitudes) by the base weight they adapt, checked against the base. */
    private static final class Adapter implements AutoCloseable {
        private final SafetensorsReader weights;
        private final float scaling;
        private final boolean dora;
        /** Base weight name ({@code ...q_proj.weight}) to its A, B and (DoRA) magnitude tensor names. */
        private final Map<String, String[]> pairs;

        private Adapter(SafetensorsReader weights, float scaling, boolean dora, Map<String, String[]> pairs) {
            this.weights = weights;
            this.scaling = scaling;
            this.dora = dora;
            this.pairs = pairs;
        }

        static Adapter open(Path directory, TensorSource base) throws CheckpointException {
            Path configFile = directory.resolve(AdapterConfigJson.FILE_NAME);
            if (!Files.isRegularFile(configFile)) {
                throw new CheckpointException(configFile, null, "does not exist: not a PEFT adapter directory");
            }
            AdapterConfigJson.AdapterConfig adapterConfig = AdapterConfigJson.read(configFile);
            if (adapterConfig.sequenceClassification()) {
                throw new CheckpointException(
                        configFile,
                        "task_type",
                        "is SEQ_CLS: a reward model's adapter (with its score head) is not merged into a language"
                                + " model; load it with RewardModel, or train the reward model with method full");
            }
            LoraConfig config = adapterConfig.lora();
            Path weightsFile = directory.resolve(PeftAdapter.WEIGHTS_FILE);
            if (!Files.isRegularFile(weightsFile)) {
                throw new CheckpointException(weightsFile, null, "does not exist (adapter_model.bin is not supported)");
            }
            SafetensorsReader weights = SafetensorsReader.open(weightsFile);
            try {
                return new Adapter(weights, (float) config.scaling(), config.useDora(), pairs(weights, config, base));
            } catch (CheckpointException | RuntimeException e) {
                weights.close();
                throw e;
            }
        }

        /**
         * Every lora_A has its lora_B (and with DoRA its lora_magnitude_vector), fitting a base weight
         * [O, I] as [R, I], [O, R] (and [O]); nothing else is there.
         */
        private static Map<String, String[]> pairs(SafetensorsReader weights, LoraConfig config, TensorSource base)
                throws CheckpointException {
            String magnitudeSuffix = "." + LoraLinear.MAGNITUDE;
            Map<String, String[]> pairs = new LinkedHashMap<>();
            for (String name : new TreeSet<>(weights.names())) {
                if (!name.startsWith(Adapters.PEFT_PREFIX) || !name.endsWith(".lora_A.weight")) {
                    if (!name.endsWith(".lora_B.weight") && !(config.useDora() && name.endsWith(magnitudeSuffix))) {
                        throw new CheckpointException(weights.file(), name, "is not a LoRA tensor this merge knows");
                    }
                    continue;
                }
                String module =
                        name.substring(Adapters.PEFT_PREFIX.length(), name.length() - ".lora_A.weight".length());
                String bName = Adapters.PEFT_PREFIX + module + ".lora_B.weight";
                String target = module + ".weight";
                if (!weights.names().contains(bName)) {
                    throw new CheckpointException(weights.file(), bName, "missing: " + name + " has no lora_B");
                }
                if (!base.names().contains(target)) {
                    throw new CheckpointException(
                            weights.file(), name, "adapts " + target + ", which the base model does not have");
                }
                long[] w = base.info(target).shape();
                long[] a = weights.info(name).shape();
                long[] b = weights.info(bName).shape();
                if (w.length != 2
                        || !Arrays.equals(a, new long[] {config.r(), w[1]})
                        || !Arrays.equals(b, new long[] {w[0], config.r()})) {
                    throw new CheckpointException(
                            weights.file(),
                            name,
                            "shapes A " + Arrays.toString(a) + " and B " + Arrays.toString(b) + " of rank " + config.r()
                                    + " do not fit the base weight " + target + " " + Arrays.toString(w));
                }
                if (!base.info(target).dtype().isFloatWeight()) {
                    throw new CheckpointException(
                            base.fileOf(target),
                            target,
                            "dtype " + base.info(target).dtype() + " cannot be merged into");
                }
                String mName = null;
                if (config.useDora()) {
                    mName = Adapters.PEFT_PREFIX + module + magnitudeSuffix;
                    if (!weights.names().contains(mName)) {
                        throw new CheckpointException(
                                weights.file(), mName, "missing: a DoRA adapter has a magnitude for " + name);
                    }
                    long[] m = weights.info(mName).shape();
                    if (!Arrays.equals(m, new long[] {w[0]})) {
                        throw new CheckpointException(
                                weights.file(),
                                mName,
                                "shape " + Arrays.toString(m) + " does not fit the base weight " + target + " "
                                        + Arrays.toString(w));
                    }
                }
                pairs.put(target, new String[] {name, bName, mName});
            }
            for (String name : weights.names()) {
                if ((name.endsWith(".lora_B.weight") || name.endsWith(magnitudeSuffix))
                        && pairs.values().stream().noneMatch(pair -> name.equals(pair[1]) || name.equals(pair[2]))) {
                    throw new CheckpointException(weights.file(), name, "has no lora_A");
                }
            }
            return pairs;
        }

        boolean adapts(String baseTensor) {
            return pairs.containsKey(baseTensor);
        }

        /** lora_A [R, I] as fp32. */
        NDArray a(String baseTensor, NDManager manager) throws CheckpointException {
            return weights.read(pairs.get(baseTensor)[0], manager);
        }

        /** lora_B [O, R] as fp32. */
        NDArray b(String baseTensor, NDManager manager) throws CheckpointException {
            return weights.read(pairs.get(baseTensor)[1], manager);
        }

        float scaling() {
            return scaling;
        }

        boolean dora() {
            return dora;
        }

        /** DoRA's lora_magnitude_vector [O] as fp32. */
        float[] magnitude(String baseTensor) throws CheckpointException {
            return weights.readFloats(pairs.get(baseTensor)[2]);
        }

        Path weightsFile() {
            return weights.file();
        }

        @Override
        public void close() {
            weights.close();
        }
    }
}
