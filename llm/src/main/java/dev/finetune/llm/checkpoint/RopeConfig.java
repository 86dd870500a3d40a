package dev.finetune.llm.checkpoint;

/**
 * Rotary position embedding settings: the base {@code rope_theta} and an optional frequency
 * scaling from {@code rope_scaling} (HF transformers v4) or {@code rope_parameters} (v5).
 *
 * @param theta base of the geometric frequency progression ({@code rope_theta})
 * @param type {@code default}, {@code linear} or {@code llama3}
 * @param factor scaling factor (linear, llama3); 1 for default
 * @param lowFreqFactor llama3 only
 * @param highFreqFactor llama3 only
 * @param originalMaxPositionEmbeddings llama3 only: the pre-training context length
 */
public record RopeConfig(
        double theta,
        String type,
        double factor,
        double lowFreqFactor,
        double highFreqFactor,
        int originalMaxPositionEmbeddings) {

    public static final String DEFAULT = "default";
    public static final String LINEAR = "linear";
    public static final String LLAMA3 = "llama3";

    public static RopeConfig plain(double theta) {
        return new RopeConfig(theta, DEFAULT, 1, 0, 0, 0);
    }

    public static RopeConfig linear(double theta, double factor) {
        return new RopeConfig(theta, LINEAR, factor, 0, 0, 0);
    }

    public static RopeConfig llama3(
            double theta,
            double factor,
            double lowFreqFactor,
            double highFreqFactor,
            int originalMaxPositionEmbeddings) {
        return new RopeConfig(theta, LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
    }
}
