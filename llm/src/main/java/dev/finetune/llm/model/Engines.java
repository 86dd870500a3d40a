package dev.finetune.llm.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Prepares a thread to run models on DJL's PyTorch engine. libtorch's grad mode is per thread and
 * on by default; DJL switches it off only on the thread that started the engine. A service's worker
 * thread (or any other) calls one of these before it loads or runs a model, so that it behaves like
 * that thread: gradients are recorded only inside the training loop's gradient collectors, forward
 * passes elsewhere build no autograd graph, and the optimizer may update leaf weights in place.
 */
public final class Engines {
    private Engines() {}

    /**
     * Prepares the calling thread to train (set up, train and checkpoint a recipe).
     *
     * @return the device models load onto
     */
    public static Device trainingThread() {
        return prepareThread();
    }

    /**
     * Prepares the calling thread to score and generate without gradients.
     *
     * @return the device models load onto
     */
    public static Device inferenceThread() {
        return prepareThread();
    }

    private static Device prepareThread() {
        Engine.getEngine("PyTorch"); // loads the native library before the JNI call below
        JniUtils.setGradMode(false);
        return CausalLm.preferredDevice();
    }
}
