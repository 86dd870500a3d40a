package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;

/**
 * The decoder body's forward pass in training, and the part of the backward pass that belongs to it.
 * The loss is back-propagated into {@link #hidden()} first (by the caller, chunk by chunk through the
 * LM head); {@link #backward} then carries the gradient on through the layers.
 *
 * <p>Without activation checkpointing the whole pass is recorded as usual: what backward needs of
 * every layer's activations stays alive until backward, which reaches the layers through {@link
 * #hidden()}'s graph and leaves {@link #backward} nothing to do; each layer runs in a scope of its own,
 * so the rest of its intermediate arrays are freed when it is done.
 *
 * <p>With activation checkpointing (HF's {@code gradient_checkpointing}) the layers run with
 * recording paused, each in its own NDScope, keeping only each layer's input [B, T, C]: the
 * activations of a layer (and, under QLoRA, its dequantised weights) live only while that layer
 * computes. The final norm runs recorded on a leaf copy of the last layer's output. {@link #backward}
 * then goes through the layers from the last to the first, one at a time, in a scope of its own:
 * rebuild the layer's activations by running it again with recording on from a leaf copy of its
 * saved input, back-propagate {@code sum(y * g)} (g = the upstream gradient, a constant), and take
 * the input leaf's gradient as the next g. Last, {@code sum(embedded * g)} reaches the embedding if
 * it trains. Each backward call adds into the parameters' gradients (libtorch accumulates into
 * {@code .grad}; DJL's collector neither zeroes nor resets them on close), so a parameter used twice
 * (tied embeddings: lookup and LM head) gets the sum. Random draws (LoRA dropout) are replayed: each
 * layer's {@link ReplayableRandomness} modules are rewound to where they stood in the first pass.
 * Cost: one more forward pass of the layers.
 *
 * <p>Dimension letters: B batch, T time, C channels.
 */
public final class TrainingPass {
    private final NDArray hidden;
    private final Checkpoints checkpoints;

    private TrainingPass(NDArray hidden, Checkpoints checkpoints) {
        this.hidden = hidden;
        this.checkpoints = checkpoints;
    }

    /** The layers' forward pass in one, the function of layer i's input that checkpointing replays. */
    @FunctionalInterface
    interface LayerStep {
        NDArray forward(int layer, NDArray x);
    }

    /**
     * Runs the layers over {@code embedded}, then {@code norm}. Checkpoints only if asked and if this
     * thread records gradients (outside a gradient collector there is no backward to prepare for).
     *
     * @param embeddingTrains whether the embedding weight has a gradient, so {@code embedded}'s
     *     gradient is needed (DJL's {@code hasGradient} answers false for every non-leaf array)
     */
    static TrainingPass run(
            NDArray embedded,
            boolean embeddingTrains,
            List<DecoderLayer> layers,
            LayerStep step,
            RmsNorm norm,
            boolean checkpointing) {
        if (!checkpointing || !GradientMode.isRecording()) {
            NDArray x = embedded;
            for (int i = 0; i < layers.size(); i++) {
                x = layerInItsOwnScope(step, i, x);
            }
            return new TrainingPass(norm.forward(x), null);
        }
        List<NDArray> inputs = new ArrayList<>();
        List<long[]> randomPositions = new ArrayList<>();
        NDArray x = embedded.stopGradient(); // shares storage with embedded, no graph
        for (int i = 0; i < layers.size(); i++) {
            inputs.add(x);
            randomPositions.add(positions(randomModules(layers.get(i))));
            x = layerWithoutRecording(step, i, x);
        }
        x.setRequiresGradient(true); // a leaf: backward starts the layers from its gradient
        Checkpoints checkpoints = new Checkpoints(embedded, embeddingTrains, layers, step, inputs, randomPositions, x);
        return new TrainingPass(norm.forward(x), checkpoints);
    }

    /**
     * Layer {@code layer}, recorded, with the handles of its intermediate arrays closed when it is done.
     * The recorded graph holds what backward needs (libtorch counts references to tensors, a closed
     * handle is one reference less), so everything else a layer makes (the scores before the softmax,
     * the mask added to them, transposed copies, ...) is freed at once instead of living until the
     * step's scope closes: without this a Qwen3-0.6B-shaped step of 512 tokens peaked at 12.4 GiB.
     * Arrays a layer makes from Java data must be copied into libtorch's own memory before the graph
     * keeps them (see {@code LoraDropout}).
     */
    @SuppressWarnings("try")
    private static NDArray layerInItsOwnScope(LayerStep step, int layer, NDArray x) {
        NDArray y;
        try (NDScope ignored = new NDScope()) {
            y = step.forward(layer, x);
            NDScope.unregister(y);
        }
        NDScope.register(y); // now owned by the caller's scope
        return y;
    }

    @SuppressWarnings("try")
    private static NDArray layerWithoutRecording(LayerStep step, int layer, NDArray x) {
        try (GradientMode.Paused paused = GradientMode.pause()) {
            return layerInItsOwnScope(step, layer, x);
        }
    }

    /** The final-normed hidden states [B, T, C]; back-propagate the loss into them first. */
    public NDArray hidden() {
        return hidden;
    }

    /** Whether the layers were checkpointed (and {@link #backward} has work to do). */
    public boolean checkpointed() {
        return checkpoints != null;
    }

    /**
     * Carries the gradient that has reached {@link #hidden()} on through the layers and the embedding.
     * Call inside {@code collector}, after back-propagating everything that depends on {@link
     * #hidden()}; without checkpointing that has already reached every parameter.
     */
    public void backward(GradientCollector collector) {
        if (checkpoints != null) {
            checkpoints.backward(collector);
        }
    }

    /** What checkpointing keeps of the forward pass, and the recomputing backward pass. */
    private record Checkpoints(
            NDArray embedded,
            boolean embeddingTrains,
            List<DecoderLayer> layers,
            LayerStep step,
            List<NDArray> inputs,
            List<long[]> randomPositions,
            NDArray output) {

        @SuppressWarnings("try")
        void backward(GradientCollector collector) {
            NDArray upstream = output.getGradient(); // [B, T, C]; zeros if the loss did not reach it
            for (int i = layers.size() - 1; i >= 0; i--) {
                boolean inputNeedsGradient = i > 0 || embeddingTrains;
                NDArray gradient = null;
                try (NDScope ignored = new NDScope()) {
                    NDArray x = inputs.get(i).stopGradient(); // a fresh leaf sharing the saved input
                    if (inputNeedsGradient) {
                        x.setRequiresGradient(true);
                    }
                    List<ReplayableRandomness> random = randomModules(layers.get(i));
                    long[] after = positions(random);
                    rewind(random, randomPositions.get(i));
                    NDArray y =
                            layerInItsOwnScope(step, i, x); // rebuilt and recorded; the graph keeps what backward needs
                    rewind(random, after);
                    collector.backward(y.mul(upstream).sum()); // d/dθ sum(y * g) = g^T dy/dθ
                    if (inputNeedsGradient) {
                        gradient = x.getGradient(); // [B, T, C]
                        NDScope.unregister(gradient);
                    }
                }
                upstream.close();
                inputs.get(i).close();
                if (gradient == null) {
                    return; // the layers below train nothing and the embedding is frozen
                }
                NDScope.register(gradient);
                upstream = gradient;
            }
            collector.backward(embedded.mul(upstream).sum());
            upstream.close();
        }
    }

    /** The modules of a layer that draw random numbers, in a fixed order. */
    private static List<ReplayableRandomness> randomModules(Module module) {
        List<ReplayableRandomness> found = new ArrayList<>();
        collectRandom(module, found);
        return found;
    }

    private static void collectRandom(Module module, List<ReplayableRandomness> into) {
        if (module instanceof ReplayableRandomness random) {
            into.add(random);
        }
        module.children().values().forEach(child -> collectRandom(child, into));
    }

    private static long[] positions(List<ReplayableRandomness> modules) {
        return modules.stream().mapToLong(ReplayableRandomness::randomPosition).toArray();
    }

    private static void rewind(List<ReplayableRandomness> modules, long[] positions) {
        for (int i = 0; i < modules.size(); i++) {
            modules.get(i).rewindRandom(positions[i]);
        }
    }
}
