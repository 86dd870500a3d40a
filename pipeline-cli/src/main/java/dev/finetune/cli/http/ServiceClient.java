package dev.finetune.cli.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * JSON over HTTP to one pipeline service, with its API key when one is set. Errors carry the call
 * and the service's own message (the services answer 4xx with what was wrong and where).
 */
public final class ServiceClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** An upload's timeout covers its whole body: datasets of gigabytes take a while. */
    private static final Duration UPLOAD_TIMEOUT = Duration.ofHours(2);

    private final String service;
    private final URI base;
    private final String apiKey;
    private final HttpClient http;

    public ServiceClient(String service, URI base, String apiKey) {
        this.service = service;
        this.base = base;
        this.apiKey = apiKey;
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    }

    public URI base() {
        return base;
    }

    /** A path segment, escaped. */
    public static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    public JsonNode get(String path) {
        return json(send("GET", path, HttpRequest.BodyPublishers.noBody(), null));
    }

    /** GET that answers empty for 404 instead of failing. */
    public Optional<JsonNode> find(String path) {
        HttpResponse<byte[]> response = exchange("GET", path, HttpRequest.BodyPublishers.noBody(), null);
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        return Optional.of(json(checked("GET", path, response)));
    }

    public JsonNode post(String path, Object body) {
        return json(send("POST", path, HttpRequest.BodyPublishers.ofByteArray(bytes(body)), "application/json"));
    }

    public JsonNode put(String path, Object body) {
        return json(send("PUT", path, HttpRequest.BodyPublishers.ofByteArray(bytes(body)), "application/json"));
    }

    public JsonNode postFile(String path, Path file, String contentType) {
        try {
            return json(checked(
                    "POST",
                    path,
                    exchange(request(
                            "POST", path, HttpRequest.BodyPublishers.ofFile(file), contentType, UPLOAD_TIMEOUT))));
        } catch (java.io.FileNotFoundException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** POSTs a multipart form, with the upload timeout: its files may be gigabytes. */
    public JsonNode postMultipart(String path, MultipartBody body) {
        return json(checked(
                "POST", path, exchange(request("POST", path, body.publisher(), body.contentType(), UPLOAD_TIMEOUT))));
    }

    /** Streams a GET body; the caller closes it. */
    public InputStream stream(String path) {
        return openBody(path, request("GET", path, HttpRequest.BodyPublishers.noBody(), null));
    }

    /**
     * Opens a Server-Sent Events stream ({@code text/event-stream}), resuming after {@code
     * lastEventId} when it is not null. An error answer is thrown as {@link ApiException}.
     */
    public EventStream events(String path, String lastEventId) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(base.resolve(path))
                .GET()
                .header("Accept", "text/event-stream, application/problem+json");
        if (lastEventId != null) {
            builder.header("Last-Event-ID", lastEventId);
        }
        if (apiKey != null && !apiKey.isBlank()) {
            builder.header("Authorization", "Bearer " + apiKey);
        }
        // No request timeout: a stream stays open as long as the job runs; the server's keep-alive
        // comments show that it is alive.
        return new EventStream(openBody(path, builder.build()));
    }

    /** The body of a GET as a stream, once the answer is a success; an error answer is thrown. */
    private InputStream openBody(String path, HttpRequest request) {
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() >= 300) {
                try (InputStream body = response.body()) {
                    throw new ApiException(
                            call("GET", path),
                            response.statusCode(),
                            new String(body.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
            return response.body();
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling " + call("GET", path), e);
        }
    }

    private byte[] send(String method, String path, HttpRequest.BodyPublisher body, String contentType) {
        return checked(method, path, exchange(method, path, body, contentType));
    }

    private byte[] checked(String method, String path, HttpResponse<byte[]> response) {
        if (response.statusCode() >= 300) {
            throw new ApiException(
                    call(method, path), response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
        }
        return response.body();
    }

    private HttpResponse<byte[]> exchange(
            String method, String path, HttpRequest.BodyPublisher body, String contentType) {
        return exchange(request(method, path, body, contentType));
    }

    private HttpResponse<byte[]> exchange(HttpRequest request) {
        String method = request.method();
        String path = base.relativize(request.uri()).toString();
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling " + call(method, path), e);
        }
    }

    private HttpRequest request(String method, String path, HttpRequest.BodyPublisher body, String contentType) {
        return request(method, path, body, contentType, TIMEOUT);
    }

    private HttpRequest request(
            String method, String path, HttpRequest.BodyPublisher body, String contentType, Duration timeout) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(base.resolve(path))
                .timeout(timeout)
                .method(method, body)
                .header("Accept", "application/json, application/problem+json");
        if (contentType != null) {
            builder.header("Content-Type", contentType);
        }
        if (apiKey != null && !apiKey.isBlank()) {
            builder.header("Authorization", "Bearer " + apiKey);
        }
        return builder.build();
    }

    private UncheckedIOException unreachable(IOException e) {
        String why = e instanceof ConnectException ? "nothing answers there" : String.valueOf(e.getMessage());
        return new UncheckedIOException(service + " at " + base + " is unreachable (" + why + ")", e);
    }

    private String call(String method, String path) {
        return service + " " + method + " " + path;
    }

    private static byte[] bytes(Object body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write the request body as JSON", e);
        }
    }

    private static JsonNode json(byte[] body) {
        if (body.length == 0) {
            return JSON.nullNode();
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException("the service answered something that is not JSON", e);
        }
    }
}
