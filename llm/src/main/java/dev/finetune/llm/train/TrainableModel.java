package dev.finetune.llm.train;

import dev.finetune.llm.checkpoint.Checkpoint;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.BaseLinear;
import dev.finetune.llm.lora.HalfPrecisionBase;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.lora.TargetModules;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.model.ValueHead;
import dev.finetune.llm.optim.LossScaler;
import dev.finetune.llm.peft.AdapterConfigJson;
import dev.finetune.llm.peft.MergedCheckpoint;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.quant.BaseDType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A model prepared for one fine-tuning method: with full fine-tuning every parameter is trainable;
 * with LoRA or QLoRA adapters are attached and only they are. Hands out the trainable parameters by
 * their checkpoint names (HuggingFace names for full fine-tuning, PEFT names for adapters), switches
 * training mode (adapter dropout) and saves or restores what is trained.
 */
public final class TrainableModel implements AutoCloseable {
    /** PPO's value head in a checkpoint, TRL's tensor names ({@link ValueHead#WEIGHT}, {@link ValueHead#BIAS}). */
    public static final String VALUE_HEAD_FILE = "value_head.safetensors";

    private final CausalLm model;
    private final Method method;
    private final Adapters adapters;
    private Map<String, Parameter> parameters;
    private ValueHead valueHead;
    private long stepSeed;

    private TrainableModel(CausalLm model, Method method, Adapters adapters, Map<String, Parameter> parameters) {
        this.model = model;
        this.method = method;
        this.adapters = adapters;
        this.parameters = Collections.unmodifiableMap(parameters);
    }

    /**
     * Prepares {@code model} (which this object then owns and closes) for {@code method}.
     *
     * @param lora adapter settings, used for LoRA and QLoRA (QLoRA always has an nf4 base; LoRA the
     *     config's {@code baseDtype})
     * @param seed seeds the adapters' initialisation and dropout
     * @throws IllegalArgumentException for full fine-tuning of a model whose linears are quantised
     */
    public static TrainableModel prepare(CausalLm model, Method method, LoraConfig lora, long seed) {
        if (method == Method.FULL) {
            for (TargetModules.Site site : TargetModules.decoderLinears(model)) {
                BaseDType stored = BaseLinear.dtype(site.module());
                if (stored != BaseDType.FP32) {
                    throw new IllegalArgumentException("full fine-tuning trains every weight, so the model must be"
                            + " loaded in fp32; " + site.path() + " is stored as " + stored.configName());
                }
            }
            Map<String, Parameter> all = model.namedParameters();
            all.values().forEach(parameter -> parameter.array().setRequiresGradient(true));
            return new TrainableModel(model, method, null, all);
        }
        Adapters adapters =
                Adapters.apply(model, method == Method.QLORA ? lora.withBaseDtype(BaseDType.NF4) : lora, seed);
        TrainableModel prepared = new TrainableModel(model, method, adapters, adapters.trainableParameters());
        prepared.setGradientCheckpointing(false);
        return prepared;
    }

    /**
     * Activation checkpointing ({@code gradient_checkpointing}) as asked, and always over a quantised
     * (int8 or NF4) base. A quantised base linear's fp32 weight is rebuilt on each forward pass, and
     * the recorded graph holds it until backward (the input's gradient is {@code g W}); DJL has no
     * custom autograd functions, so the only way not to keep every layer's fp32 weight is to run each
     * layer again in backward, dequantising its weights again as bitsandbytes does, and free them with
     * the layer. PEFT's {@code prepare_model_for_kbit_training} turns checkpointing on by default for
     * the same reason.
     */
    public void setGradientCheckpointing(boolean requested) {
        boolean quantisedBase = adapters != null && adapters.config().baseDtype() != BaseDType.FP32;
        model.setGradientCheckpointing(requested || quantisedBase);
    }

    /**
     * {@code fp16: true}: the frozen base linears the adapters wrap compute in fp16 with {@code
     * scaler}'s loss scaling ({@link HalfPrecisionBase} says exactly what is fp16).
     *
     * @throws IllegalArgumentException for full fine-tuning: its weights would have to be trained
     *     through the engine's cast to fp16, which records no gradient
     */
    public void useFp16(LossScaler scaler) {
        if (adapters == null) {
            throw new IllegalArgumentException("fp16 needs method lora or qlora: full fine-tuning would train its"
                    + " weights through the engine's cast to fp16, which records no gradient");
        }
        adapters.setHalfPrecision(new HalfPrecisionBase(scaler, model.manager()));
    }

    public CausalLm model() {
        return model;
    }

    /**
     * Trains {@code head} (PPO's value head) with the model: its parameters join the trained ones by
     * their TRL names, and checkpoints hold it ({@link #VALUE_HEAD_FILE}). Call before the optimizer is
     * made.
     */
    public void attachValueHead(ValueHead head) {
        if (valueHead != null) {
            throw new IllegalStateException("the model already has a value head");
        }
        Map<String, Parameter> all = new LinkedHashMap<>(parameters);
        head.parameters().forEach((name, parameter) -> {
            parameter.array().setRequiresGradient(true);
            all.put(name, parameter);
        });
        parameters = Collections.unmodifiableMap(all);
        valueHead = head;
    }

    /** PPO's value head, if one is trained. */
    public Optional<ValueHead> valueHead() {
        return Optional.ofNullable(valueHead);
    }

    public Method method() {
        return method;
    }

    public Optional<Adapters> adapters() {
        return Optional.ofNullable(adapters);
    }

    /** The parameters the optimizer updates, by checkpoint name. */
    public Map<String, Parameter> parameters() {
        return parameters;
    }

    public long trainableValues() {
        return parameters.values().stream().mapToLong(p -> p.shape().size()).sum();
    }

    /** Training mode turns adapter dropout on; evaluation and generation need it off. */
    public void setTraining(boolean training) {
        if (adapters != null) {
            adapters.setTraining(training);
        }
    }

    /**
     * Called before optimizer step {@code step}: restarts the dropout masks from a seed of (seed,
     * step), so a run resumed at any step draws the masks an uninterrupted run draws.
     */
    public void beginStep(long seed, int step) {
        stepSeed = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step).nextLong();
        if (adapters != null) {
            adapters.reseedDropout(stepSeed);
        }
    }

    /**
     * The seed of (seed, step) of the step {@link #beginStep} began, for the other randomness an
     * objective draws per step (GRPO's sampling): a function of the step, so a resumed run draws what
     * an uninterrupted run draws.
     */
    public long stepSeed() {
        return stepSeed;
    }

    /**
     * The reference model for DPO: the same model with its adapters switched off until the handle is
     * closed.
     *
     * @throws IllegalStateException for full fine-tuning, which has no frozen copy (precompute the
     *     reference log-probabilities before training instead)
     */
    public Adapters.Switch reference() {
        if (adapters == null) {
            throw new IllegalStateException("full fine-tuning has no reference model to switch to");
        }
        return adapters.disabled();
    }

    /**
     * Writes the trained weights into a checkpoint directory and returns the file names written:
     * config.json and model.safetensors for full fine-tuning (a loadable model), the PEFT adapter
     * files for LoRA (adapter_config.json naming {@code baseModel}, adapter_model.safetensors).
     */
    List<String> saveTrainable(Path directory, Path baseModel) throws IOException {
        if (valueHead != null) {
            TensorFiles.writeParameters(directory.resolve(VALUE_HEAD_FILE), valueHead.parameters());
            List<String> files = new ArrayList<>(saveWeights(directory, baseModel));
            files.add(VALUE_HEAD_FILE);
            return files;
        }
        return saveWeights(directory, baseModel);
    }

    private List<String> saveWeights(Path directory, Path baseModel) throws IOException {
        if (adapters == null) {
            model.save(directory, DType.F32);
            return List.of(Checkpoint.SINGLE_FILE, ModelConfigJson.FILE_NAME);
        }
        PeftAdapter.save(adapters, directory, baseModel == null ? "" : baseModel.toString());
        return List.of(PeftAdapter.WEIGHTS_FILE, AdapterConfigJson.FILE_NAME);
    }

    /** Restores the trained weights from a checkpoint directory, in place. */
    void loadTrainable(Path directory) throws CheckpointException {
        if (valueHead != null) {
            TensorFiles.copyInto(directory.resolve(VALUE_HEAD_FILE), valueHead.parameters());
        }
        if (adapters == null) {
            TensorFiles.copyInto(directory.resolve(Checkpoint.SINGLE_FILE), model.namedParameters());
        } else {
            PeftAdapter.loadWeights(adapters, directory);
        }
    }

    /**
     * Puts a saved PEFT adapter's weights into the adapters, in place, before training starts
     * (init_adapter). Every tensor must be there with the adapters' shape, and nothing else.
     *
     * @throws TrainConfigException naming the adapter file and the tensor that does not fit, or for
     *     full fine-tuning, which has no adapters
     */
    void loadInitial(Path adapterDirectory) throws TrainConfigException {
        if (adapters == null) {
            throw new TrainConfigException("init_adapter " + adapterDirectory + " cannot start full fine-tuning");
        }
        try {
            PeftAdapter.loadWeights(adapters, adapterDirectory);
        } catch (CheckpointException e) {
            throw new TrainConfigException("init_adapter does not fit the base model: " + e.getMessage(), e);
        }
    }

    /**
     * Writes the result of training: the whole model in HuggingFace layout with the base model's
     * tokenizer files (full fine-tuning), or the adapter in PEFT layout.
     */
    void export(Path directory, Path baseModel) throws IOException {
        if (adapters == null) {
            MergedCheckpoint.write(model, directory, baseModel);
        } else {
            PeftAdapter.save(adapters, directory, baseModel == null ? "" : baseModel.toString());
        }
        if (valueHead != null) { // PPO: the value head beside the policy, as TRL's model with a value head saves it
            TensorFiles.writeParameters(directory.resolve(VALUE_HEAD_FILE), valueHead.parameters());
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
