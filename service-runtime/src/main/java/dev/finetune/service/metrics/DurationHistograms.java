package dev.finetune.service.metrics;

import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The pipeline's duration timers: each publishes a percentile histogram (Prometheus {@code _bucket}
 * series, so dashboards and alerts can take quantiles across instances), with buckets only between
 * the shortest and longest durations the work can take.
 */
public final class DurationHistograms {
    private DurationHistograms() {}

    /** A timer builder for {@code name}; add tags, then register it. */
    public static Timer.Builder timer(String name, String description, Duration shortest, Duration longest) {
        return Timer.builder(name)
                .description(description)
                .publishPercentileHistogram()
                .minimumExpectedValue(shortest)
                .maximumExpectedValue(longest);
    }
}
