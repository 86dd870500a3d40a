package dev.finetune.training.metrics;

import dev.finetune.events.JobState;
import dev.finetune.training.job.JobStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;

/** Test-only: a {@link JobCounts} gauge outside Quarkus, read as a scrape would read it. */
public final class JobCountsProbe {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private JobCountsProbe() {}

    /** The gauges registered and their first count asked for (it comes in the background). */
    public static JobCountsProbe start(JobStore jobs) {
        JobCountsProbe probe = new JobCountsProbe();
        new JobCounts(jobs, probe.registry, Duration.ofHours(1)).register(null);
        probe.count(JobState.RUNNING);
        return probe;
    }

    /** What a scrape reads for {@code state}: NaN until the first count is in. */
    public double count(JobState state) {
        return registry.get("finetune.jobs").tag("state", state.code()).gauge().value();
    }

    /** The states the gauge has a series for. */
    public Set<JobState> states() {
        return registry.find("finetune.jobs").gauges().stream()
                .map(Gauge::getId)
                .map(id -> JobState.fromCode(id.getTag("state")))
                .collect(Collectors.toSet());
    }
}
