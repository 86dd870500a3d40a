package dev.finetune.console.services;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SseReaderTest {
    @Test
    void eventsCommentsAndMultiLineDataAreReadInOrder() throws IOException {
        String stream = ": keep-alive\n\n"
                + "id: 1\nevent: state\ndata: {\"state\":\"running\"}\n\n"
                + "id:2\nevent:metrics\ndata:{\"a\":1,\ndata: \"b\":2}\nretry: 10\n\n"
                + "data: last without a blank line";
        SseReader reader = new SseReader(new ByteArrayInputStream(stream.getBytes(StandardCharsets.UTF_8)));

        assertThat(reader.next()).isEqualTo(new SseReader.Event(null, null, null, true));
        assertThat(reader.next()).isEqualTo(new SseReader.Event("1", "state", "{\"state\":\"running\"}", false));
        assertThat(reader.next()).isEqualTo(new SseReader.Event("2", "metrics", "{\"a\":1,\n\"b\":2}", false));
        assertThat(reader.next()).isEqualTo(new SseReader.Event(null, null, "last without a blank line", false));
        assertThat(reader.next()).isNull();
    }
}
