package dev.finetune.llm.settings;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.TrainConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Settings that only the base model can bound are checked against it, naming the model's limit. */
class ModelBoundsTest {
    private static final ModelConfig MODEL = TinyModels.config(ModelType.LLAMA);

    @Test
    void aSequenceLongerThanTheModelsPositionsIsRefused() {
        TrainConfig job = job(Method.LORA).with(Settings.MAX_SEQ_LENGTH, MODEL.maxPositionEmbeddings() + 1);
        assertThatThrownBy(() -> ModelBounds.check(MODEL, job))
                .isInstanceOf(SettingException.class)
                .hasMessage("max_seq_length must be <= the model's max_position_embeddings ("
                        + MODEL.maxPositionEmbeddings() + "), got " + (MODEL.maxPositionEmbeddings() + 1));
        assertThatCode(() -> ModelBounds.check(
                        MODEL, job(Method.LORA).with(Settings.MAX_SEQ_LENGTH, MODEL.maxPositionEmbeddings())))
                .doesNotThrowAnyException();
    }

    @Test
    void aRankLargerThanTheSmallerSideOfAnAdaptedLayerIsRefused() {
        int keyValue = ModelBounds.smallerSides(MODEL).get("k_proj");
        TrainConfig attention = job(Method.LORA).with(Settings.LORA_R, keyValue + 1);
        assertThatThrownBy(() -> ModelBounds.check(MODEL, attention))
                .hasMessage("lora_r must be <= min(in, out) of the adapted layers (k_proj: " + keyValue + "), got "
                        + (keyValue + 1));
        TrainConfig mlpOnly = attention.with(Settings.LORA_TARGET_MODULES, List.of("mlp.down_proj"));
        int down = ModelBounds.smallerSides(MODEL).get("down_proj");
        if (keyValue + 1 <= down) {
            assertThatCode(() -> ModelBounds.check(MODEL, mlpOnly))
                    .as("only the adapted layers bound the rank")
                    .doesNotThrowAnyException();
        }
        assertThatCode(() -> ModelBounds.check(MODEL, job(Method.FULL).with(Settings.LORA_R, 4096)))
                .as("full fine-tuning has no adapters to bound")
                .doesNotThrowAnyException();
    }

    private static TrainConfig job(Method method) {
        return TrainConfig.of(Path.of("m"), Path.of("d.jsonl"), Path.of("out"), method, Objective.SFT);
    }
}
