package dev.finetune.console.services;

/** The four services the console reads and drives, by the names their operators know. */
public enum Service {
    DATASET("dataset-service"),
    TRAINING("training-service"),
    EVAL("eval-service"),
    REGISTRY("registry-service");

    private final String displayName;

    Service(String displayName) {
        this.displayName = displayName;
    }

    public String displayName() {
        return displayName;
    }
}
