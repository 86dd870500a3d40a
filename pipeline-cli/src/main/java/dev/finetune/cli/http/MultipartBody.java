package dev.finetune.cli.http;

import java.io.FileNotFoundException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A {@code multipart/form-data} body (RFC 7578) of text fields and files; each file is streamed from
 * disk as the request is sent, never held in memory.
 */
public final class MultipartBody {
    private final String boundary = "finetune-" + UUID.randomUUID();
    private final List<HttpRequest.BodyPublisher> parts = new ArrayList<>();

    public MultipartBody field(String name, String value) {
        parts.add(text(head(name, null, "text/plain; charset=UTF-8") + value + "\r\n"));
        return this;
    }

    /** A file part; its filename is the file's name. */
    public MultipartBody file(String name, Path file) throws FileNotFoundException {
        parts.add(text(head(name, file.getFileName().toString(), "application/octet-stream")));
        parts.add(HttpRequest.BodyPublishers.ofFile(file));
        parts.add(text("\r\n"));
        return this;
    }

    public String contentType() {
        return "multipart/form-data; boundary=" + boundary;
    }

    HttpRequest.BodyPublisher publisher() {
        List<HttpRequest.BodyPublisher> all = new ArrayList<>(parts);
        all.add(text("--" + boundary + "--\r\n"));
        return HttpRequest.BodyPublishers.concat(all.toArray(HttpRequest.BodyPublisher[]::new));
    }

    private String head(String name, String fileName, String contentType) {
        return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + quoted(name) + "\""
                + (fileName == null ? "" : "; filename=\"" + quoted(fileName) + "\"")
                + "\r\nContent-Type: " + contentType + "\r\n\r\n";
    }

    /** Quotes and line breaks would end the header value early; RFC 7578 escapes them as %22, %0D, %0A. */
    private static String quoted(String value) {
        return value.replace("\"", "%22").replace("\r", "%0D").replace("\n", "%0A");
    }

    private static HttpRequest.BodyPublisher text(String value) {
        return HttpRequest.BodyPublishers.ofByteArray(value.getBytes(StandardCharsets.UTF_8));
    }
}
