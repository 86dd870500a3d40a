package dev.finetune.registry.registration;

import dev.finetune.contracts.RegisteredModelNames;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.naming.Names;
import dev.finetune.registry.RegistrySettings;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;

/**
 * The registered model name of a job's versions. Events do not carry one, so it is derived: {@code
 * <baseModel>-<datasetName>}, cut to 128 characters, unless {@code
 * pipeline.registry.model-names.<that name>} maps it to another name. Every job on the same base
 * model and dataset adds a version to the same model.
 */
@ApplicationScoped
public class ModelNames {
    private final Map<String, String> mapping;

    @Inject
    ModelNames(RegistrySettings settings) {
        this(settings.modelNames());
    }

    ModelNames(Map<String, String> mapping) {
        mapping.forEach((from, to) -> Names.requireName("pipeline.registry.model-names." + from, to));
        this.mapping = Map.copyOf(mapping);
    }

    public String of(CheckpointCreated checkpoint) {
        return of(checkpoint.baseModel(), checkpoint.datasetName());
    }

    /** The name for a base model and dataset; both must be valid names. */
    public String of(String baseModel, String datasetName) {
        String name = RegisteredModelNames.of(baseModel, datasetName);
        return Names.requireName("registered model name", mapping.getOrDefault(name, name));
    }
}
