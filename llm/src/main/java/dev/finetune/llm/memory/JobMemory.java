package dev.finetune.llm.memory;

import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.TrainConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * A training job's memory, known before a worker loads anything: its estimate ({@link
 * MemoryEstimate}) from the job's settings, the storage and checkpointing chosen for it when it does
 * not say, and the changes that would let a job that does not fit run.
 *
 * <p>The default when a job leaves {@code gradient_checkpointing} or {@code base_dtype} unset: the
 * job as written if it fits; else activation checkpointing (exact, one more forward pass of the
 * layers); else, for lora, an int8 base, then an nf4 base (a quantised base is always checkpointed).
 * What was chosen is written into the job's settings, so the job record says how it runs.
 *
 * @param config the base model's config
 * @param method full, lora or qlora
 * @param objective sft, or a preference objective, which puts two rows per item in a micro-batch (a pair's two
 *     answers; a KTO example and its KL completion)
 * @param heapBytes the worker JVM's heap limit
 * @param rewardModels the configs of the reward models a PPO or GRPO job's {@code model:} rewards load
 *     beside the policy (a SEQ_CLS adapter's is its base's: it loads a copy of the base); empty for none
 */
public record JobMemory(
        ModelConfig config, Method method, Objective objective, long heapBytes, List<ModelConfig> rewardModels) {
    public JobMemory {
        rewardModels = List.copyOf(rewardModels);
    }

    /** A job that loads no reward model. */
    public JobMemory(ModelConfig config, Method method, Objective objective, long heapBytes) {
        this(config, method, objective, heapBytes, List.of());
    }

    /**
     * A reward model's weights as {@code ModelReward} loads one: fp32 throughout, with the one-label
     * score head [1, C] in place of an untied LM head [V, C]. A SEQ_CLS adapter's LoRA tensors (well under
     * 1% of the weights) are not counted.
     */
    public static long rewardModelBytes(ModelConfig rewardModel) {
        long c = rewardModel.hiddenSize();
        long lmHead = rewardModel.tieWordEmbeddings() ? 0 : rewardModel.vocabSize() * c;
        return ModelSize.of(rewardModel).weightBytes(BaseDType.FP32) + Float.BYTES * (c - lmHead);
    }

    /** The estimate of one training step of a job with {@code settings}, its reward models loaded. */
    public MemoryEstimate estimate(SettingValues settings) {
        return step(settings)
                .withRewardModels(rewardModels.stream()
                        .mapToLong(JobMemory::rewardModelBytes)
                        .sum());
    }

    private MemoryEstimate step(SettingValues settings) {
        int batch = settings.get(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, method);
        int sequences = objective == Objective.SFT ? batch : 2 * batch; // two rows per item
        BaseDType base = method == Method.FULL ? BaseDType.FP32 : settings.get(Settings.BASE_DTYPE, method);
        boolean checkpointing = settings.get(Settings.GRADIENT_CHECKPOINTING, method) || base != BaseDType.FP32;
        MemoryEstimate.Step step =
                new MemoryEstimate.Step(sequences, settings.get(Settings.MAX_SEQ_LENGTH, method), checkpointing);
        return MemoryEstimate.training(config, method, base, TrainConfig.lora(settings, method), step, heapBytes);
    }

    /**
     * {@code settings} if they fit {@code limit}, else with the unset ones among gradient_checkpointing
     * and base_dtype chosen (see the class comment) so that they do; as they were if nothing the job
     * left open helps.
     */
    public SettingValues fit(SettingValues settings, long limit) {
        if (estimate(settings).total() <= limit) {
            return settings;
        }
        for (SettingValues candidate : defaults(settings)) {
            if (estimate(candidate).total() <= limit) {
                return candidate;
            }
        }
        return settings;
    }

    /** The job's settings with the open choices made, least lossy first. */
    private List<SettingValues> defaults(SettingValues settings) {
        List<SettingValues> candidates = new ArrayList<>();
        if (settings.explicit(Settings.GRADIENT_CHECKPOINTING).isEmpty()) {
            candidates.add(settings.with(Settings.GRADIENT_CHECKPOINTING, true));
        }
        if (method == Method.LORA && settings.explicit(Settings.BASE_DTYPE).isEmpty()) {
            candidates.add(settings.with(Settings.BASE_DTYPE, BaseDType.INT8));
            candidates.add(settings.with(Settings.BASE_DTYPE, BaseDType.NF4));
        }
        return candidates;
    }

    /**
     * Changes of one setting each (or batch size with accumulation) that would bring the job under
     * {@code limit}, with the estimate each gives: "gradient_checkpointing: true (2.1 GiB)".
     */
    public List<String> alternatives(SettingValues settings, long limit) {
        List<String> fits = new ArrayList<>();
        if (!estimate(settings).equals(estimate(settings.with(Settings.GRADIENT_CHECKPOINTING, true)))) {
            offer(fits, settings.with(Settings.GRADIENT_CHECKPOINTING, true), "gradient_checkpointing: true", limit);
        }
        if (method == Method.LORA) {
            for (BaseDType base : new BaseDType[] {BaseDType.INT8, BaseDType.NF4}) {
                if (settings.get(Settings.BASE_DTYPE, method).bitsPerWeight() > base.bitsPerWeight()) {
                    offer(fits, settings.with(Settings.BASE_DTYPE, base), "base_dtype: " + base.configName(), limit);
                }
            }
        }
        int batch = settings.get(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, method);
        int accumulation = settings.get(Settings.GRADIENT_ACCUMULATION_STEPS, method);
        for (int smaller = batch / 2; smaller >= 1; smaller /= 2) {
            if (batch % smaller == 0 && (long) accumulation * (batch / smaller) <= 4096) {
                int steps = accumulation * (batch / smaller);
                SettingValues halved = settings.with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, smaller)
                        .with(Settings.GRADIENT_ACCUMULATION_STEPS, steps);
                if (estimate(halved).total() <= limit) {
                    offer(
                            fits,
                            halved,
                            "per_device_train_batch_size: " + smaller + " with gradient_accumulation_steps: " + steps
                                    + " (the same effective batch)",
                            limit);
                    break;
                }
            }
        }
        return fits;
    }

    private void offer(List<String> fits, SettingValues candidate, String change, long limit) {
        long total = estimate(candidate).total();
        if (total <= limit) {
            fits.add(change + " (" + WorkerMemory.format(total) + ")");
        }
    }
}
