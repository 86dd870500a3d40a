package dev.finetune.training.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.JobState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** Every state's counter exists from the start, so the first failed job is an increase Prometheus sees. */
class JobTransitionsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final JobTransitions transitions = new JobTransitions(registry);

    @Test
    void everyStateIsAtZeroBeforeAnyJobEntersIt() {
        transitions.registerAtZero(null);

        for (JobState state : JobState.values()) {
            Counter counter = registry.find("finetune.job.state.transitions")
                    .tag("state", state.code())
                    .counter();
            assertThat(counter).as(state.code()).isNotNull();
            assertThat(counter.count()).as(state.code()).isZero();
        }
        transitions.entered(JobState.FAILED);
        assertThat(registry.find("finetune.job.state.transitions")
                        .tag("state", "failed")
                        .counter()
                        .count())
                .isEqualTo(1.0);
    }
}
