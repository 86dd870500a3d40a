package dev.finetune.training.worker;

import dev.finetune.llm.train.Recipe;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Stops one job's training from other threads (the lease keeper, the step listener): the first
 * reason given wins, and the recipe returns after the step in progress. A stop given before the
 * recipe is attached (while the worker still downloads) is passed on when it is.
 */
final class RunControl {
    private final AtomicReference<StopReason> reason = new AtomicReference<>();
    private volatile Recipe recipe;

    /** The recipe that trains the job from now on. */
    void attach(Recipe recipe) {
        this.recipe = recipe;
        if (reason.get() != null) {
            recipe.requestStop();
        }
    }

    /** Asks the job to stop for {@code why}, unless it was asked already. */
    void stop(StopReason why) {
        if (reason.compareAndSet(null, why)) {
            Recipe attached = recipe;
            if (attached != null) {
                attached.requestStop();
            }
        }
    }

    /** Why the job was asked to stop, if it was. */
    Optional<StopReason> stopReason() {
        return Optional.ofNullable(reason.get());
    }
}
