package dev.finetune.errors;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.ServerException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.MalformedURLException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.FileSystemException;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.zip.ZipException;

/**
 * The one place that decides whether a failure is worth retrying, by the types found along its
 * whole cause chain (never by package name).
 *
 * <ul>
 *   <li>Permanent whenever the chain holds bad input: an {@link InvalidInputException}, or a
 *       checked exception marked {@link BadInput} (llm's corrupt checkpoint, unusable tokenizer or
 *       training file). Retrying cannot fix bad input.
 *   <li>Otherwise the outermost cause with a verdict decides. Retriable: a {@link
 *       TransientException}; an S3 error with a throttling/server-side code or a 5xx without a
 *       body; a timeout ({@link InterruptedIOException}, {@link TimeoutException}); a Kafka {@code
 *       RetriableException}; an I/O failure of the connection (connection refused or reset, broken
 *       pipe, unexpected end of stream). Permanent: any other S3 error (no such key, access
 *       denied), a missing or unwritable local file, content that cannot be parsed (JSON, gzip, a
 *       charset).
 *   <li>A plain {@link IOException} that wraps something defers to what it wraps, and counts as
 *       retriable only if nothing deeper decides.
 *   <li>Everything else (a bug, a not-found or conflict answer, a wrapper around nothing
 *       retriable) is permanent.
 * </ul>
 *
 * <p>So an {@code ObjectStoreException} caused by a socket timeout is retried, and one caused by a
 * 404 or AccessDenied is not.
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

    private static final String KAFKA_RETRIABLE = "org.apache.kafka.common.errors.RetriableException";

    /** How deep a cause chain is followed; a longer one is cut (it is almost surely a cycle). */
    private static final int MAX_DEPTH = 64;

    private Failures() {}

    /** Whether {@code failure}, or what caused it, is transient. */
    public static boolean isRetriable(Throwable failure) {
        if (isInvalidInput(failure)) {
            return false;
        }
        boolean wrappedIo = false;
        int depth = 0;
        for (Throwable t = failure; t != null && depth < MAX_DEPTH; t = next(t), depth++) {
            Boolean verdict = verdict(t);
            if (verdict != null) {
                return verdict;
            }
            wrappedIo |= t instanceof IOException;
        }
        return wrappedIo;
    }

    /** Whether bad input stands anywhere in the cause chain of {@code failure}. */
    public static boolean isInvalidInput(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < MAX_DEPTH; t = next(t), depth++) {
            if (t instanceof InvalidInputException || t instanceof BadInput) {
                return true;
            }
        }
        return false;
    }

    /** True or false if {@code t} alone decides; null if its cause should decide. */
    private static Boolean verdict(Throwable t) {
        if (t instanceof TransientException) {
            return true;
        }
        if (t instanceof ErrorResponseException e) {
            return e.errorResponse() != null
                    && RETRIABLE_S3_CODES.contains(e.errorResponse().code());
        }
        if (t instanceof ServerException) {
            return true; // 5xx without a parsable S3 error body
        }
        if (t instanceof ResourceNotFoundException || t instanceof ConflictException) {
            return false; // the answer is known: asking again gives the same one
        }
        if (t instanceof InterruptedIOException || t instanceof TimeoutException) {
            return true;
        }
        if (isKafkaRetriable(t)) {
            return true;
        }
        if (t instanceof FileNotFoundException
                || t instanceof FileSystemException
                || t instanceof MalformedURLException
                || t instanceof JsonProcessingException
                || t instanceof ZipException
                || t instanceof CharacterCodingException) {
            return false; // a missing file, a full disk, bytes that do not parse: the next attempt meets the same
        }
        if (t instanceof IOException && next(t) == null) {
            return true; // connection refused/reset, broken pipe, unexpected end of stream
        }
        return null;
    }

    private static Throwable next(Throwable t) {
        Throwable cause = t.getCause();
        return cause == t ? null : cause;
    }

    private static boolean isKafkaRetriable(Throwable t) {
        for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
            if (c.getName().equals(KAFKA_RETRIABLE)) {
                return true;
            }
        }
        return false;
    }
}
