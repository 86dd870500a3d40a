package dev.finetune.cli.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.finetune.cli.http.ServiceClient;
import dev.finetune.llm.cli.ProgressBar;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The watcher against a stand-in training-service: it follows the job's event stream, resumes after
 * the last event seen when the stream breaks off, and polls (saying so) when the service answers the
 * stream with an error.
 */
class JobWatcherTest {
    private static final String JOB = "{\"id\":\"j1\",\"state\":\"succeeded\",\"step\":4,\"totalSteps\":4}";

    private static String event(long sequence, String kind, String state, String extra) {
        return "{\"jobId\":\"j1\",\"sequence\":" + sequence + ",\"kind\":\"" + kind + "\",\"state\":\"" + state + "\""
                + extra + "}";
    }

    private static final List<String> EVENTS = List.of(
            event(1, "state", "running", ",\"message\":\"started on worker w\""),
            event(2, "metrics", "running", ",\"metrics\":{\"step\":2,\"totalSteps\":4,\"loss\":1.5}"),
            event(3, "checkpoint", "running", ",\"message\":\"checkpoint at checkpoints/j1/step-2/\""),
            event(
                    4,
                    "metrics",
                    "running",
                    ",\"metrics\":{\"step\":4,\"totalSteps\":4,\"loss\":0.5,"
                            + "\"evaluation\":{\"eval_mean_token_accuracy\":0.6,\"eval_loss\":1.23456}}"),
            event(5, "state", "succeeded", ",\"message\":\"trained 4 steps\""));

    @Test
    void followsTheStreamAndResumesAfterTheLastEventWhenItEndsBeforeTheJob() throws Exception {
        List<String> lastEventIds = new CopyOnWriteArrayList<>();
        HttpServer server = server();
        server.createContext("/api/jobs/j1/events/stream", exchange -> {
            String last = exchange.getRequestHeaders().getFirst("Last-Event-ID");
            lastEventIds.add(String.valueOf(last));
            exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                long after = last == null ? 0 : Long.parseLong(last);
                out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                for (String e : EVENTS) {
                    long sequence = Long.parseLong(e.replaceAll(".*\"sequence\":(\\d+).*", "$1"));
                    if (sequence <= after) {
                        continue;
                    }
                    String name = e.replaceAll(".*\"kind\":\"(\\w+)\".*", "$1");
                    out.write(("id: " + sequence + "\nevent: " + name + "\ndata: " + e + "\n\n")
                            .getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    if (last == null && sequence == 3) {
                        return; // the first connection ends here, as a proxy that cuts it would end it
                    }
                }
            }
        });
        server.createContext(
                "/api/jobs/j1",
                exchange -> answer(exchange, 200, lastEventIds.size() < 2 ? JOB.replace("succeeded", "running") : JOB));
        server.start();
        try {
            StringWriter shown = new StringWriter();
            var job = new JobWatcher(client(server), Duration.ofMillis(10))
                    .watch("j1", new ProgressBar(new PrintWriter(shown, true), "training", false), deadline());

            assertThat(job.path("state").asText()).isEqualTo("succeeded");
            assertThat(lastEventIds).containsExactly("null", "3");
            String output = shown.toString();
            assertThat(output).containsOnlyOnce("j1: checkpoint at checkpoints/j1/step-2/");
            assertThat(output).containsOnlyOnce("j1: started on worker w");
            assertThat(output).contains("resuming after event 3");
            assertThat(output).contains("j1: trained 4 steps");
            assertThat(output)
                    .as("a step the worker evaluated (eval_strategy) shows its metrics, in name order")
                    .containsOnlyOnce("j1: evaluated at step 4: eval_loss 1.2346, eval_mean_token_accuracy 0.6000")
                    .doesNotContain("evaluated at step 2");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aServiceThatCannotStreamIsPolledAndTheWatcherSaysWhy() throws Exception {
        HttpServer server = server();
        server.createContext(
                "/api/jobs/j1/events/stream", exchange -> answer(exchange, 404, "{\"title\":\"Not Found\"}"));
        server.createContext(
                "/api/jobs/j1/events", exchange -> answer(exchange, 200, "[" + String.join(",", EVENTS) + "]"));
        server.createContext("/api/jobs/j1", exchange -> answer(exchange, 200, JOB));
        server.start();
        try {
            StringWriter shown = new StringWriter();
            var job = new JobWatcher(client(server), Duration.ofMillis(10))
                    .watch("j1", new ProgressBar(new PrintWriter(shown, true), "training", false), deadline());

            assertThat(job.path("state").asText()).isEqualTo("succeeded");
            assertThat(shown.toString())
                    .contains("j1: no live event stream (training-service GET api/jobs/j1/events/stream answered 404")
                    .contains("polling every 10 ms instead")
                    .containsOnlyOnce("j1: checkpoint at checkpoints/j1/step-2/");
        } finally {
            server.stop(0);
        }
    }

    private static Instant deadline() {
        return Instant.now().plusSeconds(30);
    }

    private static HttpServer server() throws IOException {
        return HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    }

    private static ServiceClient client(HttpServer server) {
        return new ServiceClient(
                "training-service",
                URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"),
                null);
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
