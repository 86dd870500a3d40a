package dev.finetune.service.errors;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.errors.ReadOnlyProperties;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;

/**
 * The services' JSON refuses fields its types do not have, in request bodies and in events alike
 * (as {@code EventJson} does outside Quarkus): a misspelt or renamed field would otherwise be
 * dropped and its default used without anyone noticing. Over HTTP the refusal is a 400 naming the
 * field and the closest known one ({@link ProblemMappers}). What a type writes through a derived
 * getter (e.g. {@code isPrepared()}) is no unknown field: it reads back ({@link ReadOnlyProperties}).
 */
@Singleton
public class StrictJson implements ObjectMapperCustomizer {
    @Override
    public void customize(ObjectMapper mapper) {
        mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        mapper.addHandler(new ReadOnlyProperties()); // what a type writes through a derived getter reads back
    }
}
