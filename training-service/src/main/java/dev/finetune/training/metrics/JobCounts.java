package dev.finetune.training.metrics;

import dev.finetune.events.JobState;
import dev.finetune.service.metrics.Recording;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * {@code finetune_jobs{state}}: the jobs that have not ended, in each of those states (validating,
 * queued, running). Counting reads those jobs' records ({@link JobStore#active}), never the ended
 * ones, whose number only grows (how many end, and how, is {@code
 * finetune_job_state_transitions_total}). It is done at most once per {@code
 * pipeline.metrics.jobs-refresh}, on a thread of its own, and only when someone scrapes: a scrape
 * reads the last counts and, if they are older than that, asks for new ones without waiting for
 * them. NaN until the first count is in.
 */
@ApplicationScoped
public class JobCounts {
    private static final Logger LOG = Logger.getLogger(JobCounts.class);

    private final JobStore jobs;
    private final MeterRegistry registry;
    private final long refreshNanos;
    private final AtomicBoolean counting = new AtomicBoolean();
    private final ExecutorService counter = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "job-counts");
        t.setDaemon(true);
        return t;
    });
    private volatile Map<JobState, Long> counts;
    /** When the last count started (successful or not); null before the first. */
    private volatile Long startedAt;

    JobCounts(
            JobStore jobs,
            MeterRegistry registry,
            @ConfigProperty(name = "pipeline.metrics.jobs-refresh", defaultValue = "30s") Duration refresh) {
        this.jobs = jobs;
        this.registry = registry;
        this.refreshNanos = refresh.toNanos();
    }

    void register(@Observes StartupEvent event) {
        for (JobState state : JobState.values()) {
            if (state.isTerminal()) {
                continue;
            }
            Recording.safely("jobs gauge", () -> Gauge.builder("finetune.jobs", this, c -> c.count(state))
                    .description("Jobs that have not ended, in each state, counted at most every"
                            + " pipeline.metrics.jobs-refresh")
                    .tag("state", state.code())
                    .register(registry));
        }
    }

    /** The last count of jobs in {@code state}; asks for a new one if it is stale. */
    double count(JobState state) {
        Long started = startedAt;
        if (started == null || System.nanoTime() - started > refreshNanos) {
            refreshInBackground();
        }
        Map<JobState, Long> last = counts;
        return last == null ? Double.NaN : last.getOrDefault(state, 0L);
    }

    private void refreshInBackground() {
        if (!counting.compareAndSet(false, true)) {
            return; // one count at a time
        }
        startedAt = System.nanoTime(); // a failed count waits its turn too: the store is not listed on every scrape
        try {
            counter.execute(() -> {
                try {
                    Map<JobState, Long> fresh = new EnumMap<>(JobState.class);
                    for (JobRecord job : jobs.active()) {
                        fresh.merge(job.state(), 1L, Long::sum);
                    }
                    counts = fresh;
                } catch (RuntimeException e) {
                    LOG.debugf(e, "jobs not counted");
                } finally {
                    counting.set(false);
                }
            });
        } catch (RuntimeException e) { // shut down
            counting.set(false);
        }
    }

    @PreDestroy
    void stop() {
        counter.shutdownNow();
    }
}
