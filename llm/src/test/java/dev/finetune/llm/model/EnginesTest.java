package dev.finetune.llm.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.pytorch.jni.JniUtils;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A thread other than the engine's starts with libtorch's grad mode on until it is prepared. */
class EnginesTest {
    @Test
    void aPreparedThreadRecordsNoGradients() throws Exception {
        Engines.inferenceThread(); // the engine is started (here, by this thread)
        boolean[] gradMode = CompletableFuture.supplyAsync(() -> {
                    boolean before = JniUtils.isGradMode();
                    Engines.trainingThread();
                    return new boolean[] {before, JniUtils.isGradMode()};
                })
                .get();
        assertThat(gradMode[0]).as("libtorch's default on a new thread").isTrue();
        assertThat(gradMode[1]).isFalse();
    }
}
