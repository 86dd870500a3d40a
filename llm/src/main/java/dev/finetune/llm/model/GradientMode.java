package dev.finetune.llm.model;

import ai.djl.pytorch.jni.JniUtils;

/**
 * libtorch's per-thread grad mode, which DJL turns on inside a gradient collector and exposes no
 * public switch for. Activation checkpointing runs the first pass over the decoder layers with
 * recording paused, so that no autograd graph (and none of the activations it would save) is built.
 */
public final class GradientMode {
    private GradientMode() {}

    /** Whether operations on this thread are being recorded for a backward pass. */
    public static boolean isRecording() {
        return JniUtils.isGradMode();
    }

    /** Stops recording on this thread until the returned handle is closed, which restores the previous mode. */
    public static Paused pause() {
        boolean previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        return new Paused(previous);
    }

    /** Restores the mode that was active before {@link #pause}. */
    public static final class Paused implements AutoCloseable {
        private final boolean previous;

        private Paused(boolean previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            JniUtils.setGradMode(previous);
        }
    }
}
