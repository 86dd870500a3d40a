package dev.finetune.dataset.ingest;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.storage.S3Location;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The dataset side of {@link dev.finetune.storage.AllowedSources}: its setting and the event's field. */
class UpstreamSourcesTest {
    private final UpstreamSources sources = new UpstreamSources("pipeline", List.of("exports/team-a"));

    @Test
    void aSubmissionOutsideTheAllowListIsRefusedNamingTheEventFieldAndTheSetting() {
        assertThatCode(() -> sources.check(new S3Location("exports", "team-a/data.jsonl")))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> sources.check(new S3Location("exports", "team-b/data.jsonl")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("is not in an allowed source location for datasets (allowed: [exports/team-a/];"
                        + " set pipeline.dataset.upstream.allowed)")
                .extracting(e -> ((InvalidInputException) e).field())
                .isEqualTo("objectUri");
    }
}
