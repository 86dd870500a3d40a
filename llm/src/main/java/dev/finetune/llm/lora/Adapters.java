package dev.finetune.llm.lora;

import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.DecoderModel;
import dev.finetune.llm.model.Embedding;
import dev.finetune.llm.model.LinearLayer;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.quant.BaseStorage;
import dev.finetune.llm.quant.Int8Embedding;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The LoRA adapters attached to one model: created by {@link #apply}, which wraps each target linear
 * in a {@link LoraLinear} in place. The model stays one object: {@link #disabled()} switches the
 * adapters off (the DPO reference model is the same model with adapters off), and only the adapter
 * matrices are trainable; base parameters never get {@code requiresGradient}.
 *
 * <p>Adapters start in evaluation mode (no dropout); call {@link #setTraining setTraining(true)}
 * before training steps.
 */
public final class Adapters {
    /** PEFT's prefix for tensor names: {@code PeftModel.base_model} (LoraModel) . {@code model}. */
    public static final String PEFT_PREFIX = "base_model.model.";

    private final CausalLm model;
    private final LoraConfig config;
    private final AdapterMode mode;
    private final Map<String, LoraLinear> layers;

    private Adapters(CausalLm model, LoraConfig config, AdapterMode mode, Map<String, LoraLinear> layers) {
        this.model = model;
        this.config = config;
        this.mode = mode;
        this.layers = Collections.unmodifiableMap(layers);
    }

    /**
     * Wraps every linear that {@code config.targetModules()} selects in a {@link LoraLinear}, after
     * storing every decoder linear as {@code config.baseDtype()} says (fp32 linears are quantised
     * here, and under int8 or nf4 the token embedding becomes int8 rows; a model loaded with that
     * storage already has it). The adapter matrices are created in
     * the model's manager and marked {@code requiresGradient}.
     *
     * @param seed seeds A's initialisation and the dropout masks
     * @throws IllegalArgumentException if a target name selects nothing (see {@link TargetModules}),
     *     or the base is already quantised another way
     * @throws IllegalStateException if the model already has adapters
     */
    public static Adapters apply(CausalLm model, LoraConfig config, long seed) {
        List<TargetModules.Site> all = TargetModules.decoderLinears(model);
        for (TargetModules.Site site : all) {
            if (site.module() instanceof LoraLinear) {
                throw new IllegalStateException("the model already has LoRA adapters (at " + site.path() + ")");
            }
        }
        List<TargetModules.Site> targets = TargetModules.resolve(model, config.targetModules());
        Map<String, Module> bases = new LinkedHashMap<>();
        for (TargetModules.Site site : all) {
            bases.put(site.path(), site.module());
        }
        BaseStorage storage = config.baseStorage();
        bases.replaceAll((path, base) -> BaseLinear.store(path, base, storage, model.manager()));
        freezeEmbedding(model, storage);
        AdapterMode mode = new AdapterMode();
        SplittableRandom init = new SplittableRandom(seed);
        Map<String, LoraLinear> layers = new LinkedHashMap<>();
        for (TargetModules.Site site : all) {
            Module base = bases.get(site.path());
            Module replacement = base;
            if (targets.contains(site)) {
                long[] shape = BaseLinear.shape(base); // [O, I]
                long dropoutSeed = LoraDropout.mix(seed, layers.size());
                LoraLinear lora = new LoraLinear(
                        (Module & LinearLayer) base,
                        shape[1],
                        shape[0],
                        config,
                        mode,
                        model.manager(),
                        init,
                        dropoutSeed);
                lora.loraA().array().setRequiresGradient(true);
                lora.loraB().array().setRequiresGradient(true);
                lora.magnitude().ifPresent(m -> m.array().setRequiresGradient(true));
                layers.put(site.path(), lora);
                replacement = lora;
            }
            if (replacement != site.module()) {
                site.parent().replaceChild(site.name(), replacement);
            }
        }
        Adapters adapters = new Adapters(model, config, mode, layers);
        adapters.modulesToSave().values().forEach(p -> p.array().setRequiresGradient(true));
        return adapters;
    }

    /**
     * A reward model's {@code score} head, which is trained whole beside the adapters (PEFT's {@code
     * modules_to_save}, as TRL's RewardTrainer sets up a SEQ_CLS adapter), by the name PEFT saves it
     * under: {@code get_peft_model_state_dict} drops the wrapper's {@code modules_to_save.<adapter>} from
     * {@code base_model.model.score.modules_to_save.default.weight}. Empty for a language model.
     */
    public Map<String, Parameter> modulesToSave() {
        if (!model.hasScoreHead()) {
            return Map.of();
        }
        String name = CausalLm.SCORE + ".weight";
        return Map.of(PEFT_PREFIX + name, model.namedParameters().get(name));
    }

    /**
     * A quantised base stores the fp32 token embedding (a tied LM head with it) as int8 rows, as
     * loading with that storage does ({@link BaseStorage#frozenEmbedding}); the fp32 table is released.
     */
    private static void freezeEmbedding(CausalLm model, BaseStorage storage) {
        if (storage.freezesEmbedding() && model.body().embedTokens() instanceof Embedding fp32) {
            model.body().replaceChild(DecoderModel.EMBED_TOKENS, Int8Embedding.quantize(fp32, model.manager()));
            fp32.weight().array().close();
        }
    }

    /**
     * The trainable parameters {@link #apply} would create, by PEFT tensor name with their shapes
     * (A [R, I], B [O, R], and with DoRA the magnitude [O]), without changing the model: what an
     * adapter file must hold.
     *
     * @throws IllegalArgumentException if a target name selects nothing
     */
    public static Map<String, long[]> parameterShapes(CausalLm model, LoraConfig config) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (TargetModules.Site site : TargetModules.resolve(model, config.targetModules())) {
            Module base = site.module() instanceof LoraLinear lora ? (Module) lora.base() : site.module();
            long[] weight = BaseLinear.shape(base); // [O, I]
            shapes.put(PEFT_PREFIX + site.path() + ".lora_A.weight", new long[] {config.r(), weight[1]});
            shapes.put(PEFT_PREFIX + site.path() + ".lora_B.weight", new long[] {weight[0], config.r()});
            if (config.useDora()) {
                shapes.put(PEFT_PREFIX + site.path() + "." + LoraLinear.MAGNITUDE, new long[] {weight[0]});
            }
        }
        if (model.hasScoreHead()) {
            shapes.put(
                    PEFT_PREFIX + CausalLm.SCORE + ".weight",
                    new long[] {1, model.config().hiddenSize()});
        }
        return shapes;
    }

    public CausalLm model() {
        return model;
    }

    public LoraConfig config() {
        return config;
    }

    /** The adapted layers by module path ({@code model.layers.0.self_attn.q_proj}), in tree order. */
    public Map<String, LoraLinear> layers() {
        return layers;
    }

    /**
     * The adapter matrices by PEFT tensor name ({@code
     * base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight} [R, I], {@code ...lora_B.weight}
     * [O, R], and with DoRA {@code ...lora_magnitude_vector} [O], the name PEFT saves it under), in
     * tree order, then a reward model's score head ({@link #modulesToSave}): the only parameters to
     * optimise.
     */
    public Map<String, Parameter> trainableParameters() {
        Map<String, Parameter> parameters = new LinkedHashMap<>();
        layers.forEach((path, layer) -> {
            parameters.put(PEFT_PREFIX + path + ".lora_A.weight", layer.loraA());
            parameters.put(PEFT_PREFIX + path + ".lora_B.weight", layer.loraB());
            layer.magnitude().ifPresent(m -> parameters.put(PEFT_PREFIX + path + "." + LoraLinear.MAGNITUDE, m));
        });
        parameters.putAll(modulesToSave());
        return parameters;
    }

    /** Number of trainable values (the sum of r * (I + O) over the adapted layers, plus O each with DoRA). */
    public long trainableParameterCount() {
        return trainableParameters().values().stream()
                .mapToLong(p -> p.shape().size())
                .sum();
    }

    /**
     * Resident bits per weight value over all decoder-layer linears (the frozen base, adapters not
     * counted): 32 in fp32, ~8 in int8 (plus 32 / I for the row scales), ~4.127 under QLoRA with double
     * quantisation.
     */
    public double baseLinearBitsPerParameter() {
        long bytes = 0;
        long values = 0;
        for (TargetModules.Site site : TargetModules.decoderLinears(model)) {
            Module base = site.module() instanceof LoraLinear lora ? (Module) lora.base() : site.module();
            long[] shape = BaseLinear.shape(base);
            bytes += BaseLinear.residentWeightBytes(base);
            values += shape[0] * shape[1];
        }
        return 8.0 * bytes / values;
    }

    /** The module names that were adapted, sorted ({@code ["k_proj", "o_proj", ...]}), as PEFT saves them. */
    public List<String> targetModuleNames() {
        return layers.keySet().stream()
                .map(path -> path.substring(path.lastIndexOf('.') + 1))
                .distinct()
                .sorted()
                .toList();
    }

    /**
     * Switches every adapter off until the returned handle is closed, which restores the previous
     * state (so handles nest). Meanwhile the model computes exactly the base model's outputs.
     */
    public Switch disabled() {
        boolean previous = mode.enabled();
        mode.setEnabled(false);
        return () -> mode.setEnabled(previous);
    }

    public boolean isEnabled() {
        return mode.enabled();
    }

    /** Training mode applies dropout on the adapter inputs; evaluation mode (the default) does not. */
    public void setTraining(boolean training) {
        mode.setTraining(training);
    }

    public boolean isTraining() {
        return mode.training();
    }

    /**
     * Restarts every layer's dropout mask sequence from {@code seed}: a resumed run that reseeds per
     * step (e.g. with seed + step) draws the same masks as an uninterrupted one.
     */
    public void reseedDropout(long seed) {
        int index = 0;
        for (LoraLinear layer : layers.values()) {
            layer.reseedDropout(LoraDropout.mix(seed, index++));
        }
    }

    /**
     * Computes every adapted layer's frozen base product in fp16 through {@code half} ({@code fp16:
     * true}); null returns to the stored precision. The adapters stay fp32.
     */
    public void setHalfPrecision(HalfPrecisionBase half) {
        layers.values().forEach(layer -> layer.setHalfPrecision(half));
    }

    /** Restores the adapters' previous on/off state when closed; closing never throws. */
    @FunctionalInterface
    public interface Switch extends AutoCloseable {
        @Override
        void close();
    }
}
