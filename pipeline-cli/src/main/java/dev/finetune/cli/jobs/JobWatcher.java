package dev.finetune.cli.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.cli.http.ServiceClient;
import dev.finetune.llm.cli.ProgressBar;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * Follows a training job through the training-service API until it ends: a progress bar with step,
 * loss, tokens/s and ETA from the job's metrics events, and its state changes and checkpoints as
 * lines above the bar. Reads events after the last one seen, so nothing is shown twice.
 */
public final class JobWatcher {
    private static final Set<String> TERMINAL = Set.of("succeeded", "failed", "cancelled");

    private final ServiceClient training;
    private final Duration pollInterval;

    public JobWatcher(ServiceClient training, Duration pollInterval) {
        this.training = training;
        this.pollInterval = pollInterval;
    }

    /** The job once it is succeeded, failed or cancelled; throws if {@code deadline} passes first. */
    public JsonNode watch(String jobId, ProgressBar bar, Instant deadline) throws InterruptedException {
        return watch(jobId, bar, deadline, () -> {});
    }

    /**
     * As {@link #watch(String, ProgressBar, Instant)}, running {@code eachPoll} once per poll: a
     * caller's own reason to stop watching (it throws).
     */
    public JsonNode watch(String jobId, ProgressBar bar, Instant deadline, Runnable eachPoll)
            throws InterruptedException {
        String path = "api/jobs/" + ServiceClient.segment(jobId);
        long after = 0;
        JsonNode lastMetrics = null;
        while (true) {
            JsonNode events = training.get(path + "/events?after=" + after + "&limit=500");
            for (JsonNode event : events) {
                after = Math.max(after, event.path("sequence").asLong());
                switch (event.path("kind").asText()) {
                    case "metrics" -> lastMetrics = event.path("metrics");
                    case "state", "checkpoint" -> bar.message(
                            "  " + jobId + ": " + event.path("message").asText());
                    default -> {}
                }
            }
            eachPoll.run();
            JsonNode job = training.get(path);
            long step = job.path("step").asLong();
            long total = job.path("totalSteps").asLong();
            String state = job.path("state").asText();
            if (TERMINAL.contains(state)) {
                bar.finish(step, total, state + metricsDetail(lastMetrics, false));
                return job;
            }
            bar.update(step, total, state + metricsDetail(lastMetrics, true));
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("job " + jobId + " is still " + state + " at step " + step + "/" + total
                        + " after the time allowed");
            }
            Thread.sleep(pollInterval.toMillis());
        }
    }

    static String metricsDetail(JsonNode metrics, boolean withEta) {
        if (metrics == null || metrics.isMissingNode()) {
            return "";
        }
        String detail = String.format(
                "  loss %.3f  lr %.1e  %.0f tok/s",
                metrics.path("loss").asDouble(),
                metrics.path("learningRate").asDouble(),
                metrics.path("tokensPerSecond").asDouble());
        return withEta
                ? detail + "  ETA "
                        + ProgressBar.clock(metrics.path("etaSeconds").asDouble())
                : detail;
    }
}
