package dev.finetune.dataset.ingest;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.storage.S3Location;
import java.util.List;
import org.junit.jupiter.api.Test;

class UpstreamSourcesTest {
    private final UpstreamSources sources =
            new UpstreamSources("pipeline", List.of("exports", "shared/team-a", "pipeline"));

    @Test
    void objectsInAnAllowedBucketOrUnderAnAllowedPrefixAreAccepted() {
        assertThatCode(() -> sources.check(location("exports", "any/key.jsonl")))
                .doesNotThrowAnyException();
        assertThatCode(() -> sources.check(location("shared", "team-a/data.jsonl")))
                .doesNotThrowAnyException();
    }

    @Test
    void aPrefixIsAFolderNotTheStartOfAName() {
        assertThatThrownBy(() -> sources.check(location("shared", "team-ab/data.jsonl")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("is not in an allowed upstream location (allowed: [exports/, shared/team-a/]");
    }

    @Test
    void thePipelinesOwnBucketIsNeverASourceEvenWhenListed() {
        assertThatThrownBy(() -> sources.check(location("pipeline", "datasets/raw/x/1/data.jsonl")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("the pipeline's own bucket");
    }

    @Test
    void dotSegmentsAreRefused() {
        assertThatThrownBy(() -> sources.check(location("shared", "team-a/../team-b/data.jsonl")))
                .hasMessageContaining("'..' path segment");
    }

    @Test
    void withNothingConfiguredEverySubmissionIsRefusedSayingSo() {
        assertThatThrownBy(() -> new UpstreamSources("pipeline", List.of()).check(location("exports", "a.jsonl")))
                .hasMessageContaining("none is configured; set pipeline.dataset.upstream.allowed");
    }

    private static S3Location location(String bucket, String key) {
        return new S3Location(bucket, key);
    }
}
