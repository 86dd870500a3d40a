package dev.finetune.console.services;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Reads a Server-Sent Events stream (the WHATWG "event stream" format) one event at a time: {@code
 * id:}, {@code event:} and {@code data:} lines up to a blank line; data lines are joined with a
 * newline; lines starting with a colon are comments (keep-alives), returned as {@link Event#comment()}.
 */
public final class SseReader {
    /**
     * One event, or one comment.
     *
     * @param id the {@code id:} field, or null
     * @param name the {@code event:} field, or null (a plain "message")
     * @param data the data lines joined, or null for a comment
     * @param comment whether this is a comment line only
     */
    public record Event(String id, String name, String data, boolean comment) {}

    private final BufferedReader lines;

    public SseReader(InputStream body) {
        this.lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    /** The next event or comment; null at the end of the stream. */
    public Event next() throws IOException {
        String id = null;
        String name = null;
        StringBuilder data = null;
        String line;
        while ((line = lines.readLine()) != null) {
            if (line.isEmpty()) {
                if (data != null || id != null || name != null) {
                    return new Event(id, name, data == null ? "" : data.toString(), false);
                }
                continue;
            }
            if (line.startsWith(":")) {
                if (data == null && id == null && name == null) {
                    return new Event(null, null, null, true);
                }
                continue;
            }
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "id" -> id = value;
                case "event" -> name = value;
                case "data" -> data = data == null
                        ? new StringBuilder(value)
                        : data.append('\n').append(value);
                default -> {} // "retry" and unknown fields: ignored, as the format says
            }
        }
        return data == null ? null : new Event(id, name, data.toString(), false);
    }
}
