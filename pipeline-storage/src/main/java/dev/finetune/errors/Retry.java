package dev.finetune.errors;

import java.time.Duration;
import java.util.concurrent.Callable;
import org.jboss.logging.Logger;

/**
 * A bounded retry with exponential backoff for operations that are safe to repeat. Only failures
 * that {@link Failures#isRetriable} accepts are retried; the last failure is rethrown with the
 * number of attempts in its suppressed list.
 *
 * @param name what is being retried, for logs (e.g. {@code "object-store put"})
 * @param maxAttempts total attempts, including the first
 * @param initialBackoff the pause before the first retry; doubled for each further retry
 */
public record Retry(String name, int maxAttempts, Duration initialBackoff) {
    private static final Logger LOG = Logger.getLogger(Retry.class);
    /** Backoff never grows past this, so a long outage is polled rather than waited out blindly. */
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    public Retry {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException(name + ": maxAttempts must be >= 1, got " + maxAttempts);
        }
    }

    /** Runs {@code action}, retrying transient failures. */
    public <T> T call(Callable<T> action) throws Exception {
        Duration backoff = initialBackoff;
        for (int attempt = 1; ; attempt++) {
            try {
                return action.call();
            } catch (Exception e) {
                if (attempt >= maxAttempts || !Failures.isRetriable(e)) {
                    throw e;
                }
                LOG.warnf(
                        "%s failed (attempt %d of %d), retrying in %d ms: %s",
                        name, attempt, maxAttempts, backoff.toMillis(), e.toString());
                Thread.sleep(backoff.toMillis());
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
    }
}
