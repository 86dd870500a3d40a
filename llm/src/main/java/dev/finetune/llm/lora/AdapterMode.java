package dev.finetune.llm.lora;

/**
 * The switches every {@link LoraLinear} of one {@link Adapters} reads on each forward pass: whether
 * the adapters contribute at all, and whether dropout is active (training) or not (evaluation).
 */
final class AdapterMode {
    private volatile boolean enabled = true;
    private volatile boolean training;

    boolean enabled() {
        return enabled;
    }

    void setEnabled(boolean value) {
        enabled = value;
    }

    boolean training() {
        return training;
    }

    void setTraining(boolean value) {
        training = value;
    }
}
