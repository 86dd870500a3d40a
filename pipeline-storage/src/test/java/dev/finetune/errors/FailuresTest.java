package dev.finetune.errors;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParseException;
import dev.finetune.naming.InvalidNameException;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStoreException;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.ServerException;
import io.minio.messages.ErrorResponse;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.file.AccessDeniedException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.zip.ZipException;
import org.junit.jupiter.api.Test;

class FailuresTest {

    @Test
    void objectStoreFailureCausedByASocketTimeoutIsRetriable() {
        var failure =
                new ObjectStoreException("get", "datasets/raw/a/1/data.jsonl", new SocketTimeoutException("read"));
        assertThat(Failures.isRetriable(failure)).isTrue();
    }

    @Test
    void objectStoreFailureCausedByA404OrAccessDeniedIsPermanent() {
        assertThat(Failures.isRetriable(new ObjectStoreException("get", "k", s3Error("NoSuchKey"))))
                .isFalse();
        assertThat(Failures.isRetriable(new ObjectStoreException("put", "k", s3Error("AccessDenied"))))
                .isFalse();
        assertThat(Failures.isRetriable(new ObjectNotFoundException("bucket", "k")))
                .isFalse();
    }

    @Test
    void throttlingAndServerSideS3ErrorsAreRetriable() {
        assertThat(Failures.isRetriable(new ObjectStoreException("put", "k", s3Error("SlowDown"))))
                .isTrue();
        assertThat(Failures.isRetriable(
                        new ObjectStoreException("put", "k", new ServerException("bad gateway", 502, "t"))))
                .isTrue();
    }

    @Test
    void transientExceptionAnywhereInTheChainIsRetriable() {
        var failure = new IllegalStateException(
                "publishing failed", new TransientException("registry answered 503", new RuntimeException("x")));
        assertThat(Failures.isRetriable(failure)).isTrue();
    }

    @Test
    void invalidInputAnywhereInTheChainIsPermanentEvenAroundATimeout() {
        var failure = new TransientException(
                "while reading", new InvalidInputException("dataset.version", "bad", new SocketTimeoutException()));
        assertThat(Failures.isRetriable(failure)).isFalse();
        assertThat(Failures.isRetriable(new RuntimeException(new InvalidNameException("model", "bad name"))))
                .isFalse();
        assertThat(Failures.isInvalidInput(new CompletionException(new InvalidInputException("bad"))))
                .isTrue();
    }

    @Test
    void llmBadInputExceptionsArePermanentThoughTheyAreIOExceptions() {
        assertThat(Failures.isRetriable(new CorruptCheckpoint("model.safetensors: header is not JSON")))
                .isFalse();
        assertThat(Failures.isRetriable(new RuntimeException("loading", new CorruptCheckpoint("x"))))
                .isFalse();
    }

    @Test
    void timeoutsConnectionFailuresAndKafkaRetriablesAreRetriable() {
        assertThat(Failures.isRetriable(new ExecutionException(new TimeoutException("send"))))
                .isTrue();
        assertThat(Failures.isRetriable(new UncheckedIOException(new ConnectException("refused"))))
                .isTrue();
        assertThat(Failures.isRetriable(new IOException("unexpected end of stream")))
                .isTrue();
        assertThat(Failures.isRetriable(new RuntimeException(new NotLeaderOrFollowerException())))
                .isTrue();
    }

    @Test
    void wrappedIOExceptionDefersToWhatItWraps() {
        assertThat(Failures.isRetriable(new IOException("download failed", new FileNotFoundException("/tmp/x"))))
                .isFalse();
        assertThat(Failures.isRetriable(new IOException("download failed", new SocketTimeoutException())))
                .isTrue();
        assertThat(Failures.isRetriable(new IOException("download failed", new IllegalStateException("?"))))
                .isTrue();
    }

    @Test
    void localFileProblemsAndUnparsableContentArePermanent() {
        assertThat(Failures.isRetriable(new AccessDeniedException("/work/x"))).isFalse();
        assertThat(Failures.isRetriable(new ZipException("not in GZIP format"))).isFalse();
        assertThat(Failures.isRetriable(new UncheckedIOException(new JsonParseException(null, "bad"))))
                .isFalse();
    }

    @Test
    void bugsNotFoundAndConflictsArePermanent() {
        assertThat(Failures.isRetriable(new IllegalStateException("bug"))).isFalse();
        assertThat(Failures.isRetriable(new NullPointerException())).isFalse();
        assertThat(Failures.isRetriable(new RuntimeException(new ResourceNotFoundException("no model 'm'"))))
                .isFalse();
        assertThat(Failures.isRetriable(new ConflictException("alias moved"))).isFalse();
    }

    @Test
    void aCycleInTheCauseChainEnds() {
        var a = new RuntimeException("a");
        var b = new RuntimeException("b", a);
        a.initCause(b);
        assertThat(Failures.isRetriable(a)).isFalse();
    }

    private static ErrorResponseException s3Error(String code) {
        return new ErrorResponseException(
                new ErrorResponse(code, code + " message", "bucket", "k", "/bucket/k", "req", "host"), null, "");
    }

    /** Stands for llm's CheckpointException: an IOException about content. */
    static final class CorruptCheckpoint extends IOException implements BadInput {
        CorruptCheckpoint(String message) {
            super(message);
        }
    }

    /** Stands for a Kafka RetriableException subclass; matched by its superclass's name. */
    static final class NotLeaderOrFollowerException extends org.apache.kafka.common.errors.RetriableException {}
}
