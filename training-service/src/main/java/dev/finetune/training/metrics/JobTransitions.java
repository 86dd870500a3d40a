package dev.finetune.training.metrics;

import dev.finetune.events.JobState;
import dev.finetune.service.metrics.Recording;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * {@code finetune_job_state_transitions_total{state}}: jobs that entered each state, counted where
 * the state is written ({@code JobStore}): once per committed change of a record's state, whichever
 * replica or path made it, never for a retried write that changed nothing.
 */
@ApplicationScoped
public class JobTransitions {
    private final MeterRegistry registry;

    public JobTransitions(MeterRegistry registry) {
        this.registry = registry;
    }

    /** A job's record now says {@code state}. */
    public void entered(JobState state) {
        Recording.safely("job state transition", () -> Counter.builder("finetune.job.state.transitions")
                .description("Jobs that entered each state")
                .tag("state", state.code())
                .register(registry)
                .increment());
    }
}
