package dev.finetune.console.services;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.console.ConsoleSettings;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Calls the services' JSON APIs with the signed-in user's API key, from the server only. Answers
 * are plain maps and lists (what the templates read); a service that does not answer is a {@link
 * ServiceDownException}, an error answer a {@link ServiceErrorException} with the service's detail.
 */
@ApplicationScoped
public class ServiceClient {
    /** A page waits at most this long for a service; a hung one shows as down rather than hanging the page. */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};

    private final ConsoleSettings settings;
    private final ObjectMapper json;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    ServiceClient(ConsoleSettings settings, ObjectMapper json) {
        this.settings = settings;
        this.json = json;
    }

    /** GET {@code path} (under the service's base URL) as the key's holder: the answer's JSON. */
    public Object get(Service service, String path, String apiKey) {
        return send(service, request(service, path, apiKey).GET(), apiKey);
    }

    /**
     * A page of a list and where the next one is.
     *
     * @param items the page's JSON array
     * @param next the service's {@code Link: <...>; rel="next"}, or null on the last page
     */
    public record Page(List<?> items, URI next) {
        /** The value of the query parameter {@code name} of the next page's link, or null. */
        public String nextParameter(String name) {
            if (next == null || next.getRawQuery() == null) {
                return null;
            }
            for (String pair : next.getRawQuery().split("&")) {
                int equals = pair.indexOf('=');
                if (equals > 0 && pair.substring(0, equals).equals(name)) {
                    return URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
                }
            }
            return null;
        }
    }

    /** GET a page of a list at {@code path}, with the service's link to the next page. */
    public Page page(Service service, String path, String apiKey) {
        HttpResponse<byte[]> response =
                exchange(service, request(service, path, apiKey).GET());
        return new Page(
                (List<?>) json(response.body(), service, response.uri()),
                nextLink(response.headers().allValues("Link")));
    }

    /** The target of the {@code rel="next"} link among {@code Link} headers (RFC 8288), or null. */
    static URI nextLink(List<String> headers) {
        return headers.stream()
                .flatMap(header -> Arrays.stream(header.split(",")))
                .map(String::trim)
                .filter(link -> link.matches("<[^>]*>\\s*;.*\\brel=\"?next\"?(\\s*;.*)?"))
                .map(link -> URI.create(link.substring(1, link.indexOf('>'))))
                .findFirst()
                .orElse(null);
    }

    /** POST {@code body} (JSON, or no body when null) to {@code path}: the answer's JSON. */
    public Object post(Service service, String path, Object body, String apiKey) {
        return send(service, request(service, path, apiKey).POST(bodyOf(body)), apiKey);
    }

    /** PUT {@code body} as JSON to {@code path}: the answer's JSON. */
    public Object put(Service service, String path, Object body, String apiKey) {
        return send(service, request(service, path, apiKey).PUT(bodyOf(body)), apiKey);
    }

    /**
     * POST a file's bytes (an uploaded dataset) to {@code path}, streamed from disk: the answer's JSON.
     * No request timeout (a large file takes as long as it takes to send and store); connecting still
     * times out.
     */
    public Object postFile(Service service, String path, Path file, String apiKey) {
        HttpRequest.BodyPublisher body;
        try {
            body = HttpRequest.BodyPublishers.ofFile(file);
        } catch (FileNotFoundException e) {
            throw new UncheckedIOException("the uploaded file " + file + " is gone", e);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(service, path))
                .header("Accept", "application/json")
                .header("Content-Type", "application/octet-stream")
                .header("X-API-Key", apiKey)
                .POST(body);
        return send(service, request, apiKey);
    }

    /**
     * The open body of a streaming GET (Server-Sent Events), for the caller to read and close;
     * {@code lastEventId} resumes after that event, when not null.
     */
    public InputStream stream(Service service, String path, String apiKey, String lastEventId) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(service, path))
                .header("X-API-Key", apiKey)
                .header("Accept", "text/event-stream")
                .GET();
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        try {
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() >= 400) {
                try (InputStream body = response.body()) {
                    throw error(service, response.statusCode(), body.readAllBytes());
                }
            }
            return response.body();
        } catch (IOException e) {
            throw new ServiceDownException(service, uri(service, path).toString(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceDownException(service, uri(service, path).toString(), e);
        }
    }

    /**
     * A file the service streams, with what it said of it, for the caller to pass on and close.
     *
     * @param contentType the service's Content-Type, or application/octet-stream without one
     * @param length the service's Content-Length, or -1 without one
     * @param sha256 the service's X-Sha256, or null without one
     */
    public record Download(InputStream body, String contentType, long length, String sha256) {}

    /**
     * GET a file as the key's holder, open: its body is not read here, so a large file is passed on as
     * it arrives. No request timeout (a large file takes as long as it takes); connecting still times out.
     */
    public Download download(Service service, String path, String apiKey) {
        HttpRequest request = HttpRequest.newBuilder(uri(service, path))
                .header("X-API-Key", apiKey)
                .GET()
                .build();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() >= 400) {
                try (InputStream body = response.body()) {
                    throw error(service, response.statusCode(), body.readAllBytes());
                }
            }
            var headers = response.headers();
            return new Download(
                    response.body(),
                    headers.firstValue("Content-Type").orElse("application/octet-stream"),
                    headers.firstValueAsLong("Content-Length").orElse(-1),
                    headers.firstValue("X-Sha256").orElse(null));
        } catch (IOException e) {
            throw new ServiceDownException(service, request.uri().toString(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceDownException(service, request.uri().toString(), e);
        }
    }

    private HttpRequest.Builder request(Service service, String path, String apiKey) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(service, path))
                .timeout(TIMEOUT)
                .header("Accept", "application/json")
                .header("Content-Type", "application/json");
        if (apiKey != null) {
            request.header("X-API-Key", apiKey);
        }
        return request;
    }

    private Object send(Service service, HttpRequest.Builder request, String apiKey) {
        HttpResponse<byte[]> response = exchange(service, request);
        return json(response.body(), service, response.uri());
    }

    /** The service's answer to {@code request}; an error answer is thrown as {@link ServiceErrorException}. */
    private HttpResponse<byte[]> exchange(Service service, HttpRequest.Builder request) {
        HttpRequest built = request.build();
        try {
            HttpResponse<byte[]> response = http.send(built, HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() >= 400) {
                throw error(service, response.statusCode(), response.body());
            }
            return response;
        } catch (IOException e) {
            throw new ServiceDownException(service, built.uri().toString(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceDownException(service, built.uri().toString(), e);
        }
    }

    private Object json(byte[] body, Service service, URI uri) {
        try {
            return body.length == 0 ? null : json.readValue(body, Object.class);
        } catch (IOException e) {
            throw new ServiceDownException(service, uri.toString(), e);
        }
    }

    /** The service's problem details, or its status and body when it sent none. */
    private ServiceErrorException error(Service service, int status, byte[] body) {
        try {
            Map<String, Object> problem = json.readValue(body, OBJECT);
            Object detail = problem.getOrDefault("detail", problem.getOrDefault("title", "HTTP " + status));
            Object field = problem.get("field");
            return new ServiceErrorException(
                    service, status, String.valueOf(detail), field == null ? null : field.toString());
        } catch (IOException notJson) {
            return new ServiceErrorException(service, status, "HTTP " + status + ": " + new String(body), null);
        }
    }

    private HttpRequest.BodyPublisher bodyOf(Object body) {
        if (body == null) {
            return HttpRequest.BodyPublishers.noBody();
        }
        try {
            return HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot write the request body as JSON", e);
        }
    }

    private URI uri(Service service, String path) {
        URI base =
                switch (service) {
                    case DATASET -> settings.datasetUrl();
                    case TRAINING -> settings.trainingUrl();
                    case EVAL -> settings.evalUrl();
                    case REGISTRY -> settings.registryUrl();
                };
        String text = base.toString();
        return URI.create((text.endsWith("/") ? text.substring(0, text.length() - 1) : text) + path);
    }
}
