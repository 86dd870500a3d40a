package dev.finetune.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.JobState;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectStore;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only: watches a job in the store, from a thread of its own, every 200 ms, and records every
 * moment the job was running without a live lease (its newest lease generation expired, or none).
 * A queued job has no lease by design, so only {@code running} is held to it. Reads that fail (the
 * store away) are skipped: they show nothing either way.
 */
final class LeaseWatch implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectStore store;
    private final String id;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final AtomicInteger runningSeen = new AtomicInteger();

    LeaseWatch(ObjectStore store, String id) {
        this.store = store;
        this.id = id;
        executor.scheduleWithFixedDelay(this::look, 0, 200, TimeUnit.MILLISECONDS);
    }

    /** Each moment the job was running without a live lease, with the lease then newest. */
    List<String> violations() {
        return List.copyOf(violations);
    }

    /** How many looks found the job running: a watch that never saw it proves nothing. */
    int runningSeen() {
        return runningSeen.get();
    }

    private void look() {
        try {
            // The lease first, then the job: a job seen running was running when its lease was read.
            Optional<JsonNode> lease = newestLease();
            Instant now = Instant.now();
            JobState state = JobState.fromCode(JSON.readTree(store.getBytes("training/jobs/" + id + "/job.json"))
                    .path("state")
                    .asText());
            if (state != JobState.RUNNING) {
                return;
            }
            runningSeen.incrementAndGet();
            boolean live = lease.isPresent()
                    && Instant.parse(lease.get().path("expiresAt").asText()).isAfter(now);
            if (!live) {
                violations.add(now + ": running with lease "
                        + lease.map(JsonNode::toString).orElse("(none)"));
            }
        } catch (Exception e) {
            // the job not written yet, or the store away: nothing seen this time
        }
    }

    private Optional<JsonNode> newestLease() throws Exception {
        Optional<String> newest = store.list("training/jobs/" + id + "/lease/").stream()
                .map(ObjectInfo::key)
                .filter(k -> k.matches(".*/\\d{9}\\.json"))
                .max(String::compareTo);
        return newest.isEmpty() ? Optional.empty() : Optional.of(JSON.readTree(store.getBytes(newest.get())));
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
