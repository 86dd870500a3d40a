package dev.finetune.llm.cli;

import ai.djl.Device;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.lora.LoraLinear;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.peft.PeftAdapter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * A LoRA adapter that changes a model's outputs: a fresh adapter's B is zero, so it would change
 * nothing and a command that ignored {@code --adapter} would pass; here B is random.
 */
final class RandomAdapter {
    /** Half-width of the uniform draw for B: large enough that the adapted model's scores move visibly. */
    private static final double B_RANGE = 0.1;

    private RandomAdapter() {}

    /**
     * Loads the model in {@code modelDirectory} on the CPU, applies an adapter with random A and B
     * on every linear of the decoder layers, and saves it in PEFT's layout to {@code adapterDirectory}.
     * The returned adapters are on the loaded model, which the caller closes.
     */
    static Adapters save(Path modelDirectory, Path adapterDirectory, long seed) throws IOException {
        CausalLm model = CausalLm.load(modelDirectory, Device.cpu());
        try {
            Adapters adapters =
                    Adapters.apply(model, LoraConfig.defaults().withTargetModules(LoraConfig.ALL_LINEAR), seed);
            SplittableRandom random = new SplittableRandom(seed);
            for (LoraLinear layer : adapters.layers().values()) {
                float[] b = new float[Math.toIntExact(layer.loraB().shape().size())];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) ((random.nextDouble() * 2 - 1) * B_RANGE);
                }
                layer.loraB().array().set(b); // [O, R]
            }
            PeftAdapter.save(adapters, adapterDirectory, modelDirectory.toString());
            return adapters;
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }
}
