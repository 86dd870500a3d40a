package dev.finetune.registry.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.naming.InvalidNameException;
import dev.finetune.storage.ObjectKeys;
import org.junit.jupiter.api.Test;

class RegistryKeysTest {
    @Test
    void registryRootIsWhereObjectKeysPutsModels() {
        assertThat(ObjectKeys.registryModelPrefix("m")).isEqualTo(RegistryKeys.ROOT + "m/");
    }

    @Test
    void bookkeepingKeysCannotCollideWithAModelOrAVersion() {
        assertThat(RegistryKeys.job("job-1")).isEqualTo("registry/_jobs/job-1.json");
        assertThat(RegistryKeys.pendingEvaluation("job-1", 40))
                .isEqualTo("registry/_pending/job-1/evaluation-step-40.json");
        assertThat(RegistryKeys.alias("m", "production")).isEqualTo("registry/m/_aliases/production.json");
        assertThat(RegistryKeys.versionOf("m", RegistryKeys.alias("m", "production")))
                .isEqualTo(-1);
        assertThat(RegistryKeys.versionOf("m", RegistryKeys.archived("m", 3))).isEqualTo(-1);
        assertThat(RegistryKeys.versionOf("m", "registry/m/12/adapter_model.safetensors"))
                .isEqualTo(12);
        assertThat(RegistryKeys.versionOf("m", "registry/m/012/x")).isEqualTo(-1);
    }

    @Test
    void numericOrPathLikeAliasesAreRefusedWithTheValue() {
        assertThatThrownBy(() -> RegistryKeys.alias("m", "3"))
                .isInstanceOf(InvalidNameException.class)
                .hasMessageContaining("'3'");
        assertThatThrownBy(() -> RegistryKeys.alias("m", "../prod"))
                .isInstanceOf(InvalidNameException.class)
                .hasMessageContaining("alias")
                .hasMessageContaining("../prod");
    }
}
