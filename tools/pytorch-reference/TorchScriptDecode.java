import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtSymbolBlock;
import dev.finetune.llm.bench.InferenceBenchmark;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.KvCache;
import dev.finetune.llm.tiny.TinyModelGenerator;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Times a greedy decoding step of the inference benchmark's model two ways in one JVM, alternating:
 * as the TorchScript module torchscript_decode.py writes (the whole step one engine call through
 * DJL), and as llm decodes it (op by op through DJL's NDArray API). 64 steps after a 32-token
 * prompt per round; the medians of the rounds after the first.
 *
 * <p>Run (Java's single-file launch, the llm module built):
 * {@code java -Dai.djl.pytorch.num_threads=2 -Dai.djl.pytorch.num_interop_threads=1 -cp
 * llm/target/llm-0.1.0-SNAPSHOT.jar:$(cat llm/target/runtime-classpath.txt)
 * tools/pytorch-reference/TorchScriptDecode.java [/tmp/torchscript-decode]}
 */
public class TorchScriptDecode {
    static final int STEPS = 64;
    static final int ROUNDS = 9;

    public static void main(String[] args) throws Exception {
        System.setProperty("ai.djl.offline", "true");
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/torchscript-decode");
        ModelConfig config = InferenceBenchmark.modelConfig(); // the shape torchscript_decode.py writes
        double[] compiled = new double[ROUNDS];
        double[] opByOp = new double[ROUNDS];
        try (Model script = Model.newInstance("decode", "PyTorch");
                CausalLm model = TinyModelGenerator.create(
                        config, 1, TinyModelGenerator.Initialization.huggingFace(config), Device.cpu())) {
            script.load(dir, "decode");
            PtSymbolBlock block = (PtSymbolBlock) script.getBlock();
            NDManager manager = script.getNDManager();
            long[] prompt = new long[32];
            Arrays.setAll(prompt, i -> 7L * i + 3);
            for (int round = 0; round < ROUNDS; round++) {
                long next = 5;
                long start = System.nanoTime();
                for (int position = 0; position < STEPS; position++) {
                    try (NDScope ignored = new NDScope()) {
                        NDList in = new NDList(
                                manager.create(new long[] {next}, new Shape(1, 1)), manager.create((long) position));
                        next = block.forward(null, in, false).singletonOrThrow().toLongArray()[0];
                    }
                }
                compiled[round] = (System.nanoTime() - start) / 1e6 / STEPS;
                try (KvCache cache = model.newCache(prompt.length + STEPS)) {
                    try (NDScope ignored = new NDScope()) {
                        model.forwardLast(model.manager().create(new long[][] {prompt}), null, cache);
                    }
                    next = 5;
                    start = System.nanoTime();
                    for (int step = 0; step < STEPS; step++) {
                        try (NDScope ignored = new NDScope()) {
                            next = model.decode(model.manager().create(new long[] {next}, new Shape(1, 1)), cache)
                                    .argMax(1)
                                    .toLongArray()[0];
                        }
                    }
                    opByOp[round] = (System.nanoTime() - start) / 1e6 / STEPS;
                }
            }
        }
        double c = median(compiled);
        double o = median(opByOp);
        System.out.printf(
                "decoding step: TorchScript module %.2f ms, llm op by op %.2f ms; op by op / compiled %.2fx%n",
                c, o, o / c);
    }

    private static double median(double[] rounds) {
        double[] measured = Arrays.copyOfRange(rounds, 1, rounds.length);
        Arrays.sort(measured);
        return measured[measured.length / 2];
    }
}
