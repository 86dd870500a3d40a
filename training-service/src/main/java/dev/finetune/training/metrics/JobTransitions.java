package dev.finetune.training.metrics;

import dev.finetune.events.JobState;
import dev.finetune.service.metrics.Recording;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

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

    /**
     * Every state's series exists from the start, at 0: Prometheus' {@code increase()} cannot see a
     * counter's first increment when the series appears with it, so the first failed job of a
     * replica would not alert.
     */
    void registerAtZero(@Observes StartupEvent start) {
        for (JobState state : JobState.values()) {
            Recording.safely("job state transition", () -> counter(state));
        }
    }

    /** A job's record now says {@code state}. */
    public void entered(JobState state) {
        Recording.safely("job state transition", () -> counter(state).increment());
    }

    private Counter counter(JobState state) {
        return Counter.builder("finetune.job.state.transitions")
                .description("Jobs that entered each state")
                .tag("state", state.code())
                .register(registry);
    }
}
