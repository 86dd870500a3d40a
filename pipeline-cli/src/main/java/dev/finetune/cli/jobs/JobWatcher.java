package dev.finetune.cli.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.cli.http.ApiException;
import dev.finetune.cli.http.EventStream;
import dev.finetune.cli.http.ServiceClient;
import dev.finetune.llm.cli.ProgressBar;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * Follows a training job through the training-service API until it ends: a progress bar with step,
 * loss, tokens/s and ETA from the job's metrics events, and its state changes and checkpoints as
 * lines above the bar. The events come live over the job's Server-Sent Events stream; a stream that
 * breaks off is resumed after the last event seen ({@code Last-Event-ID}), so nothing is shown twice
 * or missed. A service that cannot stream (an error answer) is polled instead, and the watcher says so.
 */
public final class JobWatcher {
    private static final Set<String> TERMINAL = Set.of("succeeded", "failed", "cancelled");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Reconnects after a stream broke off, in a row, before the watch gives up. */
    private static final int MAX_RECONNECTS = 5;

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
     * As {@link #watch(String, ProgressBar, Instant)}, running {@code eachPoll} at each event and
     * keep-alive of the stream (every few seconds at least), or once per poll: a caller's own reason
     * to stop watching (it throws).
     */
    public JsonNode watch(String jobId, ProgressBar bar, Instant deadline, Runnable eachPoll)
            throws InterruptedException {
        Shown shown = new Shown(jobId, bar);
        try {
            return follow(shown, deadline, eachPoll);
        } catch (ApiException e) {
            bar.message("  " + jobId + ": no live event stream (" + e.getMessage() + "); polling every "
                    + pollInterval.toMillis() + " ms instead");
            return poll(shown, deadline, eachPoll);
        }
    }

    /** Follows the job's event stream to its end, reconnecting after the last event seen if it breaks off. */
    private JsonNode follow(Shown shown, Instant deadline, Runnable eachPoll) throws InterruptedException {
        String path = "api/jobs/" + ServiceClient.segment(shown.jobId);
        String lastId = null;
        int breaks = 0;
        while (true) {
            String why;
            try (EventStream stream = training.events(path + "/events/stream", lastId)) {
                EventStream.Event event;
                while ((event = stream.next()) != null) {
                    if (!event.keepAlive()) {
                        lastId = event.id();
                        breaks = 0;
                        shown.event(read(event.data()));
                    }
                    eachPoll.run();
                    checkDeadline(shown, deadline);
                }
                // The service ends the stream after the job's terminal state event; a proxy may end
                // it sooner.
                JsonNode job = training.get(path);
                if (TERMINAL.contains(job.path("state").asText())) {
                    return shown.end(job);
                }
                why = "the event stream ended before the job did";
            } catch (UncheckedIOException e) {
                why = e.getMessage();
            }
            if (++breaks > MAX_RECONNECTS) {
                throw new IllegalStateException("job " + shown.jobId + ": " + why + ", " + breaks + " times in a row");
            }
            shown.bar.message(
                    "  " + shown.jobId + ": " + why + "; resuming after event " + (lastId == null ? "0" : lastId));
            Thread.sleep(pollInterval.toMillis());
            checkDeadline(shown, deadline);
        }
    }

    /** Polls the job's events and record every {@code pollInterval}: for a service without streams. */
    private JsonNode poll(Shown shown, Instant deadline, Runnable eachPoll) throws InterruptedException {
        String path = "api/jobs/" + ServiceClient.segment(shown.jobId);
        while (true) {
            for (JsonNode event : training.get(path + "/events?after=" + shown.after + "&limit=500")) {
                shown.event(event);
            }
            eachPoll.run();
            JsonNode job = training.get(path);
            if (TERMINAL.contains(job.path("state").asText())) {
                return shown.end(job);
            }
            checkDeadline(shown, deadline);
            Thread.sleep(pollInterval.toMillis());
        }
    }

    private static void checkDeadline(Shown shown, Instant deadline) {
        if (Instant.now().isAfter(deadline)) {
            throw new IllegalStateException("job " + shown.jobId + " is still " + shown.state + " at step " + shown.step
                    + "/" + shown.total + " after the time allowed");
        }
    }

    private static JsonNode read(String data) {
        try {
            return JSON.readTree(data);
        } catch (IOException e) {
            throw new IllegalStateException("the training-service streamed an event that is not JSON: " + data, e);
        }
    }

    /** What the bar shows so far: events up to {@code after}, the newest metrics and state. */
    private static final class Shown {
        private final String jobId;
        private final ProgressBar bar;
        private long after;
        private JsonNode lastMetrics;
        private String state = "queued";
        private long step;
        private long total;

        Shown(String jobId, ProgressBar bar) {
            this.jobId = jobId;
            this.bar = bar;
        }

        void event(JsonNode event) {
            long sequence = event.path("sequence").asLong();
            if (sequence <= after) {
                return; // shown already
            }
            after = sequence;
            state = event.path("state").asText(state);
            switch (event.path("kind").asText()) {
                case "metrics" -> {
                    lastMetrics = event.path("metrics");
                    step = lastMetrics.path("step").asLong();
                    total = lastMetrics.path("totalSteps").asLong();
                    evaluation(lastMetrics).ifPresent(line -> bar.message("  " + jobId + ": " + line));
                }
                case "state", "checkpoint" -> bar.message(
                        "  " + jobId + ": " + event.path("message").asText());
                default -> {}
            }
            if (!TERMINAL.contains(state)) {
                bar.update(step, total, state + metricsDetail(lastMetrics, true));
            }
        }

        JsonNode end(JsonNode job) {
            bar.finish(
                    job.path("step").asLong(),
                    job.path("totalSteps").asLong(),
                    job.path("state").asText() + metricsDetail(lastMetrics, false));
            return job;
        }
    }

    /**
     * {@code evaluated at step 40: eval_loss 1.2345, eval_mean_token_accuracy 0.6000} for a step the
     * worker evaluated (eval_strategy), in name order; empty for the other steps.
     */
    static Optional<String> evaluation(JsonNode metrics) {
        JsonNode evaluation = metrics.path("evaluation");
        if (!evaluation.isObject() || evaluation.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Double> sorted = new TreeMap<>();
        evaluation
                .fields()
                .forEachRemaining(e -> sorted.put(e.getKey(), e.getValue().asDouble()));
        StringJoiner values = new StringJoiner(", ");
        sorted.forEach((name, value) -> values.add(String.format(Locale.ROOT, "%s %.4f", name, value)));
        return Optional.of("evaluated at step " + metrics.path("step").asLong() + ": " + values);
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
