package dev.finetune.service.retry;

import dev.finetune.errors.Failures;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Rides out outages of the broker or the object store: a transient failure ({@link
 * Failures#isRetriable}, decided by type along the cause chain) is retried with exponential backoff
 * and jitter until the retry budget {@code pipeline.retry.budget} is spent; then the last failure is
 * thrown as it was. Anything else is thrown at once.
 *
 * <p>Every attempt runs on the caller's thread, which sleeps between attempts: call it from worker
 * threads only. (Mutiny's retry with backoff was tried first: it resubscribes on the scheduler's or
 * the event loop's thread, which ran a training step on the event loop and loses thread-bound state
 * such as DJL's grad mode and the trace context.)
 */
public final class TransientRetry {
    private static final Logger LOG = Logger.getLogger(TransientRetry.class);
    /** The budget when none is configured: an object-store or broker restart takes well under this. */
    public static final Duration DEFAULT_BUDGET = Duration.ofMinutes(2);
    /** The first pause; doubled per attempt up to {@link #MAX_BACKOFF}. */
    private static final Duration INITIAL_BACKOFF = Duration.ofMillis(500);
    /** A long outage is polled every ~10 s rather than waited out blindly. */
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    /** ±50%: instances that failed together do not all come back at the same instant. */
    private static final double JITTER = 0.5;

    /** The work to retry; it must be safe to repeat. */
    @FunctionalInterface
    public interface Action<T> {
        T call() throws Exception;
    }

    private TransientRetry() {}

    /** The configured budget ({@code pipeline.retry.budget}), or {@link #DEFAULT_BUDGET}. */
    public static Duration budget() {
        return ConfigProvider.getConfig()
                .getOptionalValue("pipeline.retry.budget", Duration.class)
                .orElse(DEFAULT_BUDGET);
    }

    /** Runs {@code action}, retrying transient failures within the configured budget. */
    public static <T> T call(String what, Action<T> action) throws Exception {
        return call(what, budget(), action);
    }

    /** Runs {@code action}, retrying transient failures for up to {@code budget}. */
    public static <T> T call(String what, Duration budget, Action<T> action) throws Exception {
        long deadline = System.nanoTime() + budget.toNanos();
        Duration backoff = INITIAL_BACKOFF;
        for (int attempt = 1; ; attempt++) {
            try {
                return action.call();
            } catch (Exception e) {
                if (!Failures.isRetriable(e)) {
                    throw e;
                }
                long pause = jittered(backoff).toNanos();
                if (System.nanoTime() + pause > deadline) {
                    LOG.errorf(
                            "%s: still failing after %d attempts within %s: %s", what, attempt, budget, e.toString());
                    throw e;
                }
                LOG.warnf(
                        "%s failed (attempt %d), retrying in %d ms within %s: %s",
                        what, attempt, pause / 1_000_000, budget, e.toString());
                TimeUnit.NANOSECONDS.sleep(pause);
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
    }

    /** {@code backoff} ± {@link #JITTER}. */
    private static Duration jittered(Duration backoff) {
        double factor = 1 + JITTER * (2 * ThreadLocalRandom.current().nextDouble() - 1);
        return Duration.ofNanos((long) (backoff.toNanos() * factor));
    }
}
