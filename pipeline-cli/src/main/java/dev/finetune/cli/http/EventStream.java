package dev.finetune.cli.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * A Server-Sent Events stream read line by line (the {@code text/event-stream} format: {@code id:},
 * {@code event:} and {@code data:} fields, a blank line ending an event, {@code :} comments). The
 * server's keep-alive comments come back as {@link Event#keepAlive} events, so a reader blocked on
 * the stream still gets a turn every few seconds to check its deadline.
 */
public final class EventStream implements AutoCloseable {
    /**
     * One event, or a keep-alive comment ({@code name} and {@code data} null).
     *
     * @param id the event's {@code id:}, or null
     */
    public record Event(String id, String name, String data) {
        public boolean keepAlive() {
            return data == null;
        }
    }

    private final InputStream body;
    private final BufferedReader reader;

    EventStream(InputStream body) {
        this.body = body;
        this.reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    /** The next event or keep-alive; null when the server has ended the stream. */
    public Event next() {
        String id = null;
        String name = null;
        StringBuilder data = null;
        try {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isEmpty()) {
                    if (data != null) {
                        return new Event(id, name, data.toString());
                    }
                    id = null;
                    name = null;
                } else if (line.startsWith(":")) {
                    if (data == null && id == null && name == null) {
                        return new Event(null, null, null);
                    }
                } else {
                    int colon = line.indexOf(':');
                    String field = colon < 0 ? line : line.substring(0, colon);
                    String value = colon < 0 ? "" : line.substring(colon + 1);
                    value = value.startsWith(" ") ? value.substring(1) : value;
                    switch (field) {
                        case "id" -> id = value;
                        case "event" -> name = value;
                        case "data" -> data = data == null
                                ? new StringBuilder(value)
                                : data.append('\n').append(value);
                        default -> {} // retry: and unknown fields are ignored, as the format says
                    }
                }
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("the event stream broke off: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            body.close();
        } catch (IOException e) {
            // closing a stream the server already ended: nothing left to release
        }
    }
}
