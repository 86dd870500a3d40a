package dev.finetune.llm.inference;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;

/**
 * Picks the next token from one position's logits, in Java: greedy argmax, or temperature plus
 * top-p (nucleus) sampling as HuggingFace's TemperatureLogitsWarper and TopPLogitsWarper do it.
 */
final class Sampler {
    private final double temperature;
    private final double topP;
    private final Random random;

    Sampler(GenerationConfig config) {
        this.temperature = config.temperature();
        this.topP = config.topP();
        this.random = new Random(config.seed());
    }

    int next(float[] logits) {
        if (temperature == 0) {
            return argMax(logits);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit / temperature);
        }
        double[] probabilities = new double[logits.length];
        double total = 0;
        for (int i = 0; i < logits.length; i++) {
            probabilities[i] = Math.exp(logits[i] / temperature - max);
            total += probabilities[i];
        }
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
            probabilities[i] /= total;
        }
        Arrays.sort(
                order,
                Comparator.comparingDouble((Integer i) -> probabilities[i]).reversed());
        // Keep the most probable tokens until their mass reaches topP; always at least one.
        int kept = 0;
        double mass = 0;
        while (kept < order.length && (kept == 0 || mass < topP)) {
            mass += probabilities[order[kept]];
            kept++;
        }
        double target = random.nextDouble() * mass;
        double cumulative = 0;
        for (int k = 0; k < kept; k++) {
            cumulative += probabilities[order[k]];
            if (target < cumulative) {
                return order[k];
            }
        }
        return order[kept - 1];
    }

    /** The first index of the largest logit, as torch.argmax. */
    static int argMax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
