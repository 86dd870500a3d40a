package dev.finetune.llm.memory;

import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.settings.Setting;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.TrainConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A training job's memory, known before a worker loads anything: its estimate ({@link
 * MemoryEstimate}) from the job's settings, the storage and checkpointing chosen for it when it does
 * not say, and the changes that would let a job that does not fit run.
 *
 * <p>The default when a job sets neither {@code base_dtype} nor {@code gradient_checkpointing}: the
 * job as written if it fits; else activation checkpointing (exact, about a third slower); else, for
 * lora, an int8 base, then an nf4 base (each with checkpointing if that setting exists and the job
 * left it unset). What was chosen is written into the job's settings, so the job record says how it
 * runs.
 *
 * @param config the base model's config
 * @param method full, lora or qlora
 * @param objective sft or dpo (DPO puts both answers of a pair in one micro-batch)
 * @param heapBytes the worker JVM's heap limit
 */
public record JobMemory(ModelConfig config, Method method, Objective objective, long heapBytes) {
    /**
     * The HF name of the activation-checkpointing setting; read through the catalog so this class
     * works whether or not that setting is declared yet (without it, checkpointing is off).
     */
    static final String GRADIENT_CHECKPOINTING = "gradient_checkpointing";

    /** The estimate of one training step of a job with {@code settings}. */
    public MemoryEstimate estimate(SettingValues settings) {
        int batch = settings.get(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, method);
        int sequences = objective == Objective.DPO ? 2 * batch : batch;
        MemoryEstimate.Step step = new MemoryEstimate.Step(
                sequences, settings.get(Settings.MAX_SEQ_LENGTH, method), checkpointing(settings));
        BaseDType base = method == Method.FULL ? BaseDType.FP32 : settings.get(Settings.BASE_DTYPE, method);
        return MemoryEstimate.training(config, method, base, TrainConfig.lora(settings, method), step, heapBytes);
    }

    /**
     * {@code settings} if they fit {@code limit}, else with the unset ones among base_dtype and
     * gradient_checkpointing chosen (see the class comment) so that they do; as they were if nothing
     * the job left open helps.
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
        Optional<Setting<Boolean>> checkpointing =
                checkpointingSetting().filter(s -> settings.explicit(s).isEmpty());
        checkpointing.ifPresent(s -> candidates.add(settings.with(s, true)));
        if (method == Method.LORA && settings.explicit(Settings.BASE_DTYPE).isEmpty()) {
            for (BaseDType base : new BaseDType[] {BaseDType.INT8, BaseDType.NF4}) {
                SettingValues stored = settings.with(Settings.BASE_DTYPE, base);
                candidates.add(stored);
                checkpointing.ifPresent(s -> candidates.add(stored.with(s, true)));
            }
        }
        return candidates;
    }

    /**
     * Changes of one setting each (or batch size with accumulation) that would bring the job under
     * {@code limit}, with the estimate each gives: "gradient_checkpointing: true (2.1 GiB)".
     */
    public List<String> alternatives(SettingValues settings, long limit) {
        List<String> fits = new ArrayList<>();
        checkpointingSetting()
                .filter(s -> !checkpointing(settings))
                .ifPresent(s -> offer(fits, settings.with(s, true), s.name() + ": true", limit));
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

    private boolean checkpointing(SettingValues settings) {
        return checkpointingSetting().map(s -> settings.get(s, method)).orElse(false);
    }

    @SuppressWarnings("unchecked")
    private static Optional<Setting<Boolean>> checkpointingSetting() {
        return Settings.CATALOG
                .find(GRADIENT_CHECKPOINTING)
                .filter(s -> s.defaultFor(Method.LORA) instanceof Boolean)
                .map(s -> (Setting<Boolean>) s);
    }
}
