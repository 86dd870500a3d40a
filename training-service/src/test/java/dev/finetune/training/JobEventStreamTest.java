package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /api/jobs/{id}/events/stream} against the running service, its broker and its store: a
 * client follows a real (tiny) training job live, drops the connection, reconnects with {@code
 * Last-Event-ID} and gets exactly the events after it; the stream ends at the terminal state.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class JobEventStreamTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    ObjectStore store;

    @TestHTTPResource("/")
    URI base;

    /** One SSE event as a client sees it, with when it arrived. */
    record Received(long id, String name, JsonNode data, Instant arrived) {}

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.baseModel(store, "tiny-qwen3");
        Fixtures.sftDataset(store, "qa");
    }

    @Test
    void aClientFollowsAJobLiveAndResumesFromLastEventIdWithoutGapsOrRepeats() throws Exception {
        String id = JobLifecycleTest.create(Fixtures.loraSftJob(
                "tiny-qwen3",
                "qa",
                Map.of("max_steps", 30, "save_steps", 10, "per_device_train_batch_size", 2, "max_seq_length", 32)));

        // First connection: from the start, until the first progress report; then the client goes away.
        Instant opened = Instant.now();
        List<Received> first;
        try (SseClient client = SseClient.open(base, id, null)) {
            assertThat(client.contentType()).startsWith("text/event-stream");
            first = client.readUntil(e -> "metrics".equals(e.name()), Duration.ofSeconds(120));
        }
        long lastSeen = first.get(first.size() - 1).id();

        // Second connection, resumed: everything after the last id seen, live, to the job's end.
        List<Received> second;
        try (SseClient client = SseClient.open(base, id, Long.toString(lastSeen))) {
            second = client.readToEnd(Duration.ofSeconds(180));
        }

        List<Long> log = given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("sequence", Long.class);
        List<Long> seen = new ArrayList<>();
        first.forEach(e -> seen.add(e.id()));
        second.forEach(e -> seen.add(e.id()));
        assertThat(seen)
                .as("ids of both connections: the whole log, once, in order")
                .containsExactlyElementsOf(
                        LongStream.rangeClosed(1, log.size()).boxed().toList())
                .containsExactlyElementsOf(log);
        Received last = second.get(second.size() - 1);
        assertThat(last.name()).isEqualTo("state");
        assertThat(last.data().path("state").asText()).isEqualTo("succeeded");
        assertThat(second).extracting(Received::name).contains("metrics", "checkpoint");
        assertThat(first.get(0).data().path("jobId").asText()).isEqualTo(id);

        // Live, not polled: an event reaches a connected client about when it happens (the log is
        // only re-read every 10 s), here every event after the first connection's replay.
        List<Duration> delays = new ArrayList<>();
        for (Received e : concat(first, second)) {
            Instant at = Instant.parse(e.data().path("at").asText());
            if (at.isAfter(opened.plusSeconds(1))) {
                delays.add(Duration.between(at, e.arrived()));
            }
        }
        assertThat(delays).isNotEmpty();
        assertThat(delays.stream().max(Duration::compareTo).orElseThrow())
                .as("longest delay from an event to its client")
                .isLessThan(Duration.ofSeconds(6));
    }

    @Test
    void aStreamOfAnEndedJobReplaysTheRestAndEnds() throws Exception {
        String id = JobLifecycleTest.create(Fixtures.loraSftJob(
                "tiny-qwen3", "qa", Map.of("max_steps", 2, "per_device_train_batch_size", 2, "max_seq_length", 32)));
        JobLifecycleTest.awaitState(id, "succeeded");
        int events = given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .extract()
                .jsonPath()
                .getList("sequence")
                .size();

        try (SseClient client = SseClient.open(base, id, "2")) {
            List<Received> rest = client.readToEnd(Duration.ofSeconds(30));
            assertThat(rest).extracting(Received::id).first().isEqualTo(3L);
            assertThat(rest).hasSize(events - 2);
        }
        try (SseClient client = SseClient.open(base, id, Integer.toString(events))) {
            assertThat(client.readToEnd(Duration.ofSeconds(30)))
                    .as("nothing after the end")
                    .isEmpty();
        }
    }

    @Test
    void aMalformedLastEventIdIsRefusedNamingTheHeaderAndValue() {
        String id = JobLifecycleTest.create(Fixtures.loraSftJob(
                "tiny-qwen3", "qa", Map.of("max_steps", 1, "per_device_train_batch_size", 2, "max_seq_length", 32)));
        given().header("Last-Event-ID", "seven")
                .get("/api/jobs/{id}/events/stream", id)
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("detail", containsString("header Last-Event-ID must be the sequence number"))
                .body("detail", containsString("got 'seven'"));
        given().get("/api/jobs/{id}/events/stream", "no-such-job").then().statusCode(404);
    }

    private static List<Received> concat(List<Received> a, List<Received> b) {
        List<Received> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** A minimal SSE client on the JDK's HTTP client: the lines of the stream, parsed into events. */
    static final class SseClient implements AutoCloseable {
        private final HttpResponse<InputStream> response;
        private final BufferedReader reader;
        private boolean ended;

        private SseClient(HttpResponse<InputStream> response) {
            this.response = response;
            this.reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        }

        static SseClient open(URI base, String jobId, String lastEventId) throws Exception {
            HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("/api/jobs/" + jobId + "/events/stream"))
                    .header("Accept", "text/event-stream");
            if (lastEventId != null) {
                request.header("Last-Event-ID", lastEventId);
            }
            HttpResponse<InputStream> response =
                    HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(response.statusCode()).isEqualTo(200);
            return new SseClient(response);
        }

        String contentType() {
            return response.headers().firstValue("Content-Type").orElse("");
        }

        /** Events until one matches {@code stop} (included). */
        List<Received> readUntil(Predicate<Received> stop, Duration timeout) throws Exception {
            return read(stop, timeout);
        }

        /** Events until the server ends the stream. */
        List<Received> readToEnd(Duration timeout) throws Exception {
            List<Received> events = read(e -> false, timeout);
            assertThat(ended).as("the server ended the stream").isTrue();
            return events;
        }

        private List<Received> read(Predicate<Received> stop, Duration timeout) throws Exception {
            CompletableFuture<List<Received>> done = CompletableFuture.supplyAsync(() -> {
                List<Received> events = new ArrayList<>();
                try {
                    Long id = null;
                    String name = null;
                    StringBuilder data = new StringBuilder();
                    String line;
                    while ((line = reader.readLine()) != null) {
                        if (line.isEmpty()) {
                            if (data.length() > 0) {
                                Received event = new Received(id, name, JSON.readTree(data.toString()), Instant.now());
                                events.add(event);
                                if (stop.test(event)) {
                                    return events;
                                }
                            }
                            id = null;
                            name = null;
                            data.setLength(0);
                        } else if (line.startsWith("id:")) {
                            id = Long.parseLong(line.substring(3).trim());
                        } else if (line.startsWith("event:")) {
                            name = line.substring(6).trim();
                        } else if (line.startsWith("data:")) {
                            data.append(line.substring(5).trim());
                        }
                    }
                    ended = true;
                    return events;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            return done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() throws IOException {
            response.body().close();
        }
    }
}
