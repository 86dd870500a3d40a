package dev.finetune.training.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/** A started worker has warmed its reporting path and left nothing of it in the store. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class WorkerWarmupTest {
    @Inject
    WorkerWarmup warmup;

    @Inject
    ObjectStore store;

    @Test
    void theWarmUpRunsAtStartupAndLeavesNoScratchObjectBehind() {
        warmup.awaitWarm();

        assertThat(warmup.isDone())
                .as("warmed within %s", WorkerWarmup.MAX_WAIT)
                .isTrue();
        assertThat(store.list("training/warmup/")).isEmpty();
        assertThat(warmup.trainedSteps())
                .as("the test profile turns training off")
                .isZero();
    }
}
