package dev.finetune.dataset.prepare;

import io.opentelemetry.context.Context;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * Runs work on a bounded pool of threads, several keys at once and the work of one key strictly in
 * the order it was submitted: datasets are prepared in parallel, so one large dataset does not hold
 * up the others, while the versions of one dataset are prepared (and announced) in order.
 *
 * <p>{@link #submit} blocks only while {@code 2 x threads} pieces of work are accepted and not yet
 * finished, which is the back-pressure on the consumer calling it. The caller's OpenTelemetry
 * context travels with the work, so its spans and events stay in the trace that brought it.
 */
public final class PreparationPool implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PreparationPool.class);

    private final ExecutorService threads;
    private final Semaphore accepted;
    /** The last piece of work submitted per key; removed when it finishes with nothing behind it. */
    private final Map<String, CompletableFuture<Void>> tails = new HashMap<>();

    /** @param threads pieces of work running at once, >= 1 */
    public PreparationPool(int threads, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("pipeline.dataset.preparation-concurrency must be >= 1, got " + threads);
        }
        AtomicInteger count = new AtomicInteger();
        this.threads = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.accepted = new Semaphore(2 * threads);
    }

    /**
     * Runs {@code work} after every piece of work submitted before under the same key, on a pool
     * thread. Its failure is its own: the next piece of the key runs anyway.
     *
     * @return completes when the work has run
     */
    public CompletableFuture<Void> submit(String key, Runnable work) throws InterruptedException {
        accepted.acquire();
        Runnable traced = Context.current().wrap(work);
        CompletableFuture<Void> done;
        synchronized (tails) {
            CompletableFuture<Void> previous = tails.getOrDefault(key, CompletableFuture.completedFuture(null));
            done = previous.handle((ignored, failure) -> null).thenRunAsync(traced, threads);
            tails.put(key, done);
        }
        CompletableFuture<Void> submitted = done;
        submitted.whenComplete((ignored, failure) -> {
            accepted.release();
            synchronized (tails) {
                tails.remove(key, submitted);
            }
            if (failure != null) {
                LOG.errorf(failure, "work for %s failed", key);
            }
        });
        return submitted;
    }

    /** Stops taking work and interrupts what runs; unfinished work is redelivered by its source. */
    @Override
    public void close() {
        threads.shutdownNow();
        try {
            threads.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
