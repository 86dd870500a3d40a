package dev.finetune.contracts;

import dev.finetune.naming.Names;

/** The registered model that a job's versions go to, derived the same way by the registry and its clients. */
public final class RegisteredModelNames {
    private static final int MAX_LENGTH = 128;

    private RegisteredModelNames() {}

    /**
     * {@code <baseModel>-<datasetName>}, cut to 128 characters: every job on the same base model and
     * dataset adds a version to the same model (the registry may map it to another name).
     */
    public static String of(String baseModel, String datasetName) {
        String name = Names.requireName("baseModel", baseModel) + "-" + Names.requireName("dataset name", datasetName);
        return name.length() <= MAX_LENGTH ? name : name.substring(0, MAX_LENGTH);
    }
}
