package dev.finetune.events;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The JSON form of events outside Quarkus (CLI, tests, tools); services use Quarkus's mapper, which
 * is configured the same way. Unknown fields are ignored so that a field added in a later version
 * does not break an older consumer; instants are ISO-8601 strings.
 */
public final class EventJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private EventJson() {}

    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
