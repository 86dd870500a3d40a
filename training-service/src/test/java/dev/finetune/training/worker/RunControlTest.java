package dev.finetune.training.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.llm.train.Recipe;
import dev.finetune.llm.train.TrainResult;
import dev.finetune.llm.train.TrainableModel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The first stop reason wins and reaches the recipe, even one given before the recipe exists. */
class RunControlTest {
    /** A recipe that only counts stop requests. */
    private static final class StopCounter implements Recipe {
        int stops;

        @Override
        public void setup() {}

        @Override
        public TrainResult train() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Path saveCheckpoint() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void requestStop() {
            stops++;
        }

        @Override
        public void cleanup() {}

        @Override
        public TrainableModel model() {
            return null;
        }
    }

    @Test
    void aStopBeforeTheRecipeIsAttachedReachesItWhenItIs() {
        RunControl control = new RunControl();
        control.stop(StopReason.CANCELLED);
        StopCounter recipe = new StopCounter();
        control.attach(recipe);

        assertThat(recipe.stops).isEqualTo(1);
        assertThat(control.stopReason()).contains(StopReason.CANCELLED);
    }

    @Test
    void theFirstReasonWins() {
        RunControl control = new RunControl();
        StopCounter recipe = new StopCounter();
        assertThat(control.stopReason()).isEmpty();
        control.attach(recipe);
        assertThat(recipe.stops).isZero();

        control.stop(StopReason.LEASE_LOST);
        control.stop(StopReason.CANCELLED);

        assertThat(control.stopReason()).contains(StopReason.LEASE_LOST);
        assertThat(recipe.stops).isEqualTo(1);
    }
}
