package dev.finetune.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.naming.InvalidNameException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ObjectKeysTest {

    @Test
    void keysFollowTheDocumentedLayout() {
        assertThat(ObjectKeys.rawDataset("support-chats", "3", "data.jsonl.gz"))
                .isEqualTo("datasets/raw/support-chats/3/data.jsonl.gz");
        assertThat(ObjectKeys.preparedDataset("support-chats", "3", "train.jsonl"))
                .isEqualTo("datasets/prepared/support-chats/3/train.jsonl");
        assertThat(ObjectKeys.baseModel("qwen3-0.6b", "model-00001-of-00002.safetensors"))
                .isEqualTo("models/base/qwen3-0.6b/model-00001-of-00002.safetensors");
        assertThat(ObjectKeys.checkpoint("ftjob-1", 40, "adapter_model.safetensors"))
                .isEqualTo("checkpoints/ftjob-1/step-40/adapter_model.safetensors");
        assertThat(ObjectKeys.registry("support-bot", 2, "adapter_config.json"))
                .isEqualTo("registry/support-bot/2/adapter_config.json");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../x", "..", "a/b", "", "UPPER", "-dash-first", ".hidden", "a..b", "sp ace"})
    void nameThatCouldEscapeOrIsMalformedIsRefusedWithFieldAndValue(String name) {
        assertThatThrownBy(() -> ObjectKeys.rawDatasetPrefix(name, "1"))
                .isInstanceOf(InvalidNameException.class)
                .hasMessageContaining("dataset name")
                .hasMessageContaining("'" + name + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../secret", "a/../../b", "/abs", "a//b", "./x", "a/"})
    void filePathThatCouldEscapeIsRefused(String file) {
        assertThatThrownBy(() -> ObjectKeys.baseModel("m", file))
                .isInstanceOf(InvalidNameException.class)
                .hasMessageContaining("file")
                .hasMessageContaining(file);
    }

    @Test
    void nestedFilePathsInsideAnArtifactAreAllowed() {
        assertThat(ObjectKeys.checkpoint("j", 1, "optimizer/state.safetensors"))
                .isEqualTo("checkpoints/j/step-1/optimizer/state.safetensors");
    }

    @Test
    void negativeStepAndVersionZeroAreRefused() {
        assertThatThrownBy(() -> ObjectKeys.checkpointPrefix("j", -1)).hasMessageContaining("-1");
        assertThatThrownBy(() -> ObjectKeys.registryVersionPrefix("m", 0)).hasMessageContaining("got 0");
    }
}
