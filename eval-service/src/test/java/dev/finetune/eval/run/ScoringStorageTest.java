package dev.finetune.eval.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.eval.EvalSettings;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.memory.ModelSize;
import dev.finetune.llm.memory.WorkerMemory;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.BaseStorage;
import dev.finetune.llm.tiny.TinyModels;
import io.quarkus.runtime.configuration.MemorySize;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pipeline.eval.base-dtype: a fixed storage, or auto from the model's size and the memory limit. */
class ScoringStorageTest {
    private static final ModelConfig CONFIG = TinyModels.config(ModelType.LLAMA);

    @TempDir
    Path model;

    private ScoringStorage storage(String baseDtype, long memory) throws IOException {
        ModelConfigJson.write(CONFIG, "bfloat16", model.resolve(ModelConfigJson.FILE_NAME));
        return new ScoringStorage(settings(baseDtype, memory));
    }

    @Test
    void autoTakesTheMostPreciseStorageWhoseWeightsFitHalfTheMemory() throws IOException {
        ModelSize size = ModelSize.of(CONFIG);

        assertThat(storage("auto", 2 * size.weightBytes(BaseDType.FP32)).forEvaluation(model, FineTuneMethod.LORA))
                .isEqualTo(BaseStorage.FP32);
        assertThat(storage("auto", 2 * size.weightBytes(BaseDType.FP32) - 2).forEvaluation(model, FineTuneMethod.LORA))
                .isEqualTo(BaseStorage.INT8);
        assertThat(storage("auto", 2 * size.weightBytes(BaseDType.INT8) - 2).forEvaluation(model, null))
                .isEqualTo(BaseStorage.NF4);
    }

    @Test
    void autoScoresAQloraCheckpointOverNf4AsItWasTrained() throws IOException {
        assertThat(storage("auto", 1L << 40).forEvaluation(model, FineTuneMethod.QLORA))
                .isEqualTo(BaseStorage.NF4);
    }

    @Test
    void aFixedStorageAppliesToEveryCheckpoint() throws IOException {
        ScoringStorage int8 = storage("int8", 1L << 40);

        assertThat(int8.forEvaluation(model, FineTuneMethod.QLORA)).isEqualTo(BaseStorage.INT8);
        assertThat(int8.forEvaluation(model, FineTuneMethod.FULL)).isEqualTo(BaseStorage.INT8);
        assertThat(storage("FP32", 1L << 40).forEvaluation(model, null)).isEqualTo(BaseStorage.FP32);
    }

    @Test
    void weightsBeyondTheMemoryLimitFailTheEvaluationWithBothNumbers() throws IOException {
        ModelSize size = ModelSize.of(CONFIG);

        assertThatThrownBy(() ->
                        storage("int8", size.weightBytes(BaseDType.INT8) - 1).forEvaluation(model, null))
                .isInstanceOf(EvaluationFailure.class)
                .hasMessage("the base model's weights need about "
                        + WorkerMemory.format(size.weightBytes(BaseDType.INT8))
                        + " as int8 but this instance has " + WorkerMemory.format(size.weightBytes(BaseDType.INT8) - 1)
                        + " (pipeline.eval.memory-limit); pipeline.eval.base-dtype nf4 needs "
                        + WorkerMemory.format(size.weightBytes(BaseDType.NF4)));
    }

    @Test
    void anUnknownStorageIsRefusedNamingTheProperty() {
        assertThatThrownBy(() -> storage("int4", 1L << 40))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pipeline.eval.base-dtype must be auto, fp32, int8 or nf4, got \"int4\"");
    }

    private static EvalSettings settings(String baseDtype, long memory) {
        return new EvalSettings() {
            @Override
            public Path workDir() {
                return Path.of(".");
            }

            @Override
            public int maxExamples() {
                return 1;
            }

            @Override
            public int maxGenerationExamples() {
                return 1;
            }

            @Override
            public int maxTokens() {
                return 1;
            }

            @Override
            public int maxNewTokens() {
                return 1;
            }

            @Override
            public int batchSize() {
                return 1;
            }

            @Override
            public String baseDtype() {
                return baseDtype;
            }

            @Override
            public Optional<MemorySize> memoryLimit() {
                return Optional.of(new MemorySize(BigInteger.valueOf(memory)));
            }

            @Override
            public int sampleGenerations() {
                return 1;
            }

            @Override
            public PromptBaseline promptBaseline() {
                return null;
            }

            @Override
            public Gates gates() {
                return null;
            }
        };
    }
}
