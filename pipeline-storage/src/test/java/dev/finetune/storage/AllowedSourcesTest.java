package dev.finetune.storage;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.errors.InvalidInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class AllowedSourcesTest {
    private static final AllowedSources.Purpose PURPOSE =
            new AllowedSources.Purpose("pipeline.example.allowed", "source", "examples");

    private final AllowedSources sources =
            new AllowedSources("pipeline", List.of("exports", "shared/team-a", "pipeline", " "), PURPOSE);

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
                .hasMessageContaining("s3://shared/team-ab/data.jsonl is not in an allowed source location for"
                        + " examples (allowed: [exports/, shared/team-a/]; set pipeline.example.allowed)")
                .extracting(e -> ((InvalidInputException) e).field())
                .isEqualTo("source");
    }

    @Test
    void thePipelinesOwnBucketIsNeverASourceEvenWhenListed() {
        assertThatThrownBy(() -> sources.check(location("pipeline", "datasets/raw/x/1/data.jsonl")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("the pipeline's own bucket, which is never a source of examples");
    }

    @Test
    void dotSegmentsAreRefused() {
        assertThatThrownBy(() -> sources.check(location("shared", "team-a/../team-b/data.jsonl")))
                .hasMessageContaining("'..' path segment");
        assertThatThrownBy(() -> sources.check(location("shared", "team-a/./data.jsonl")))
                .hasMessageContaining("'.' path segment");
    }

    @Test
    void withNothingConfiguredEveryLocationIsRefusedSayingWhatToSet() {
        assertThatThrownBy(() -> new AllowedSources("pipeline", List.of(), PURPOSE).check(location("exports", "a")))
                .hasMessageContaining("none is configured; set pipeline.example.allowed");
    }

    private static S3Location location(String bucket, String key) {
        return new S3Location(bucket, key);
    }
}
