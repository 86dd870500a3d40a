package dev.finetune.cli.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How long the console takes to answer its jobs page and a job's page (and to replay a job's event
 * stream) when the training-service holds 100 jobs and a job has 1,000 events. The jobs and events
 * are copies of a job the run really trained, written where the training-service keeps them (its
 * records under {@code training/jobs/} in the object store; they sort before the run's own ids, so
 * the jobs page's first page is the 100 copies): the pages are then served by the real
 * training-service and console processes, over HTTP, signed in as a user is.
 */
final class ConsolePageBenchmark {
    static final int JOBS = 100;
    static final int EVENTS = 1000;
    private static final int WARM_UP = 3;
    private static final int MEASURED = 10;
    private static final String PREFIX = "training/jobs/";

    private final ObjectStore store;
    private final URI console;
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    ConsolePageBenchmark(ObjectStore store, URI console) {
        this.store = store;
        this.console = console;
    }

    /** Writes 100 copies of {@code sourceJob}, the first with 1,000 events; its id. */
    String fill(String sourceJob) throws IOException {
        ObjectNode job = (ObjectNode) json.readTree(store.getBytes(PREFIX + sourceJob + "/job.json"));
        List<ObjectNode> events = new ArrayList<>();
        for (ObjectInfo info : store.list(PREFIX + sourceJob + "/events/")) {
            events.add((ObjectNode) json.readTree(store.getBytes(info.key())));
        }
        // The stream ends after the terminal state: it goes last, and nothing after it is copied.
        int end = events.size() - 1;
        while (!"succeeded".equals(events.get(end).path("state").asText())) {
            end--;
        }
        ObjectNode terminal = events.get(end);
        events = new ArrayList<>(events.subList(0, end));
        List<ObjectNode> metrics = events.stream()
                .filter(e -> "metrics".equals(e.path("kind").asText()))
                .toList();
        String first = id(0);
        for (int i = 0; i < JOBS; i++) {
            store.putBytes(
                    PREFIX + id(i) + "/job.json",
                    json.writeValueAsBytes(job.deepCopy().put("id", id(i))),
                    "application/json");
        }
        for (int sequence = 1; sequence <= EVENTS; sequence++) {
            ObjectNode event = sequence == EVENTS
                    ? terminal.deepCopy()
                    : sequence <= events.size()
                            ? events.get(sequence - 1).deepCopy()
                            : metrics.get(sequence % metrics.size()).deepCopy();
            event.put("jobId", first).put("sequence", sequence);
            if (event.path("metrics").isObject() && event.path("metrics").has("step")) {
                ((ObjectNode) event.path("metrics")).put("step", sequence);
            }
            store.putBytes(
                    PREFIX + first + "/events/" + String.format("%012d", sequence) + ".json",
                    json.writeValueAsBytes(event),
                    "application/json");
        }
        return first;
    }

    private static String id(int i) {
        return String.format("bench-%03d", i);
    }

    /** Signs in with {@code apiKey}, then times the pages, alternating them; a markdown report. */
    String measure(String apiKey, String job) throws Exception {
        String cookie = signIn(apiKey);
        List<Long> jobsPage = new ArrayList<>();
        List<Long> jobPage = new ArrayList<>();
        List<Long> stream = new ArrayList<>();
        for (int run = 0; run < WARM_UP + MEASURED; run++) {
            long a = time(() -> page("/jobs", cookie, "bench-099"));
            long b = time(() -> page("/jobs/" + job, cookie, job));
            long c = time(() -> events(job, cookie));
            if (run >= WARM_UP) {
                jobsPage.add(a);
                jobPage.add(b);
                stream.add(c);
            }
        }
        return String.join(
                "\n",
                "| What | Median | Slowest | Of " + MEASURED + " runs after " + WARM_UP + " warm-up |",
                "|---|---:|---:|---|",
                row("Jobs page", jobsPage, "`GET /jobs`: the training-service's page of " + JOBS + " jobs, rendered"),
                row("Job page", jobPage, "`GET /jobs/<id>`: the job, its checkpoints and evaluations, rendered"),
                row(
                        "Event stream replay",
                        stream,
                        "`GET /jobs/<id>/events` to its end: " + EVENTS
                                + " events passed through from the training-service"),
                "");
    }

    private String signIn(String apiKey) throws Exception {
        HttpResponse<Void> response = http.send(
                HttpRequest.newBuilder(console.resolve("/sign-in"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "apiKey=" + URLEncoder.encode(apiKey, StandardCharsets.UTF_8)))
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        String setCookie = response.headers()
                .firstValue("Set-Cookie")
                .orElseThrow(() -> new IllegalStateException(
                        "the console's sign-in set no cookie (HTTP " + response.statusCode() + ")"));
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    private void page(String path, String cookie, String expected) throws Exception {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(console.resolve(path))
                        .header("Cookie", cookie)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200 || !response.body().contains(expected)) {
            throw new IllegalStateException(path + " answered " + response.statusCode() + " without " + expected);
        }
    }

    private void events(String job, String cookie) throws Exception {
        HttpResponse<InputStream> response = http.send(
                HttpRequest.newBuilder(console.resolve("/jobs/" + job + "/events"))
                        .header("Cookie", cookie)
                        .header("Accept", "text/event-stream")
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            String text = new String(body.readAllBytes(), StandardCharsets.UTF_8);
            long ids = text.lines().filter(line -> line.startsWith("id:")).count();
            if (ids != EVENTS) {
                throw new IllegalStateException("the stream carried " + ids + " events, not " + EVENTS);
            }
        }
    }

    private interface Call {
        void run() throws Exception;
    }

    private static long time(Call call) throws Exception {
        long start = System.nanoTime();
        call.run();
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static String row(String what, List<Long> millis, String workload) {
        long[] sorted = millis.stream().mapToLong(Long::longValue).sorted().toArray();
        long median = sorted[sorted.length / 2];
        return String.format(
                Locale.ROOT,
                "| %s | %d ms | %d ms | %s |",
                what,
                median,
                Arrays.stream(sorted).max().orElseThrow(),
                workload);
    }

    static void write(Path file, String report) throws IOException {
        Files.writeString(file, report, StandardCharsets.UTF_8);
    }
}
