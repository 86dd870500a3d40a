package dev.finetune.errors;

import io.minio.errors.ErrorResponseException;
import io.minio.errors.ServerException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * The one place that decides whether a failure is worth retrying. Retriable: the network, the
 * object store or the broker was briefly unavailable, slow or overloaded. Everything else (bad
 * input, missing object, access denied, a bug) fails the unit of work with its message at once:
 * retrying cannot fix it.
 */
public final class Failures {
    /** S3 error codes that mean "try again": throttling and server-side trouble. */
    private static final Set<String> RETRIABLE_S3_CODES = Set.of(
            "InternalError",
            "ServiceUnavailable",
            "SlowDown",
            "RequestTimeout",
            "RequestTimeTooSkewed",
            "OperationAborted",
            "XMinioServerNotInitialized");

    private Failures() {}

    /** Whether {@code failure}, or what caused it, is transient. */
    public static boolean isRetriable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ErrorResponseException e) {
                return e.errorResponse() != null
                        && RETRIABLE_S3_CODES.contains(e.errorResponse().code());
            }
            if (t instanceof ServerException) {
                return true; // 5xx without a parsable S3 error body
            }
            if (t instanceof FileNotFoundException || t instanceof java.nio.file.FileSystemException) {
                return false; // a missing file, a full disk, a permission: the next attempt meets the same
            }
            if (t.getClass().getName().startsWith("dev.finetune.")) {
                return false; // our own exceptions describe bad input (a corrupt checkpoint, a bad tokenizer)
            }
            if (t instanceof InterruptedIOException || t instanceof TimeoutException) {
                return true;
            }
            if (isKafkaRetriable(t)) {
                return true;
            }
            if (t instanceof IOException) {
                return true; // connection refused/reset, broken pipe, unexpected end of stream
            }
        }
        return false;
    }

    /** Kafka marks its transient errors with RetriableException; matched by name to avoid a hard dependency. */
    private static boolean isKafkaRetriable(Throwable t) {
        for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
            if (c.getName().equals("org.apache.kafka.common.errors.RetriableException")) {
                return true;
            }
        }
        return false;
    }
}
