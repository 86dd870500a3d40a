package dev.finetune.eval.run;

import dev.finetune.eval.EvalSettings;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.memory.ModelSize;
import dev.finetune.llm.memory.WorkerMemory;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.BaseStorage;
import io.quarkus.runtime.configuration.MemorySize;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * The storage the models of an evaluation are scored under ({@code pipeline.eval.base-dtype}): a
 * fixed one, or {@code auto}, chosen from the base model's size and this instance's memory (see
 * {@link EvalSettings#baseDtype}). A bad value stops the service at startup.
 */
@ApplicationScoped
public class ScoringStorage {
    static final String AUTO = "auto";

    private final Optional<BaseDType> fixed;
    private final long memory;

    ScoringStorage(EvalSettings settings) {
        this.fixed = parse(settings.baseDtype());
        this.memory = settings.memoryLimit().map(MemorySize::asLongValue).orElseGet(WorkerMemory::available);
    }

    static Optional<BaseDType> parse(String value) {
        if (value.strip().toLowerCase(Locale.ROOT).equals(AUTO)) {
            return Optional.empty();
        }
        try {
            return Optional.of(BaseDType.parse(value));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "pipeline.eval.base-dtype must be auto, fp32, int8 or nf4, got \"" + value + "\"", e);
        }
    }

    /**
     * The storage for evaluating a checkpoint trained with {@code method} (null: unknown) on {@code
     * baseModel}.
     *
     * @throws EvaluationFailure if the base model's weights alone, so stored, exceed this instance's
     *     memory, naming both numbers
     */
    public BaseStorage forEvaluation(Path baseModel, FineTuneMethod method) {
        ModelSize size;
        try {
            size = ModelSize.of(ModelConfigJson.read(baseModel.resolve(ModelConfigJson.FILE_NAME)));
        } catch (CheckpointException e) {
            throw new EvaluationFailure("base model cannot be read: " + e.getMessage(), e);
        }
        BaseDType dtype = fixed.orElseGet(
                () -> method == FineTuneMethod.QLORA ? BaseDType.NF4 : size.mostPreciseWithin(memory / 2));
        long weights = size.weightBytes(dtype);
        if (weights > memory) {
            throw new EvaluationFailure("the base model's weights need about " + WorkerMemory.format(weights) + " as "
                    + dtype.configName() + " but this instance has " + WorkerMemory.format(memory)
                    + " (pipeline.eval.memory-limit)"
                    + (dtype == BaseDType.NF4
                            ? ""
                            : "; pipeline.eval.base-dtype nf4 needs "
                                    + WorkerMemory.format(size.weightBytes(BaseDType.NF4))));
        }
        return BaseStorage.of(dtype);
    }
}
