package dev.finetune.events;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.finetune.errors.InvalidInputException;
import dev.finetune.errors.ReadOnlyProperties;
import dev.finetune.errors.UnknownProperty;
import java.io.IOException;

/**
 * The JSON form of events outside Quarkus (CLI, tests, tools); services use Quarkus's mapper, which
 * is configured the same way (service-runtime's {@code StrictJson}). A field the record does not
 * have is refused, not dropped: a misspelt or renamed field would otherwise turn into "the default"
 * without anyone noticing. Producers and consumers share this module, so they agree on the fields;
 * a new field reaches consumers with the module version that adds it. Instants are ISO-8601
 * strings.
 */
public final class EventJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addHandler(new ReadOnlyProperties());

    private EventJson() {}

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /**
     * Decodes an event; a field the event does not have is an {@link InvalidInputException} naming
     * the event type, the field and the closest known field.
     */
    public static <E extends PipelineEvent> E read(byte[] json, Class<E> type) throws IOException {
        try {
            return MAPPER.readValue(json, type);
        } catch (UnrecognizedPropertyException e) {
            throw unknownField(type, e);
        }
    }

    /** {@link #read(byte[], Class)} of a string. */
    public static <E extends PipelineEvent> E read(String json, Class<E> type) throws IOException {
        try {
            return MAPPER.readValue(json, type);
        } catch (UnrecognizedPropertyException e) {
            throw unknownField(type, e);
        }
    }

    private static InvalidInputException unknownField(Class<?> type, UnrecognizedPropertyException e) {
        UnknownProperty unknown = UnknownProperty.of(e);
        return new InvalidInputException(
                unknown.field(), EventCatalog.of(type).type() + " event: " + unknown.describe(), e);
    }
}
