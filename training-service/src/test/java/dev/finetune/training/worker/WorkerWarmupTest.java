package dev.finetune.training.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.TrainingSettings;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/** A started worker has warmed its training and reporting paths and left nothing of them behind. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class WorkerWarmupTest {
    @Inject
    WorkerWarmup warmup;

    @Inject
    ObjectStore store;

    @Inject
    TrainingSettings settings;

    @Test
    void theWarmUpRunsAtStartupAndLeavesNoScratchObjectBehind() {
        warmup.awaitWarm();

        assertThat(warmup.isDone())
                .as("warmed within %s", WorkerWarmup.MAX_WAIT)
                .isTrue();
        assertThat(store.list("training/warmup/")).isEmpty();
        assertThat(warmup.trainedSteps()).as("steps trained before any job").isEqualTo(TrainingWarmup.STEPS);
        assertThat(settings.workDir().resolve("warmup-training")).doesNotExist();
    }
}
