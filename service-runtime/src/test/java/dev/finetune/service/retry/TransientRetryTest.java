package dev.finetune.service.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.errors.InvalidInputException;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TransientRetryTest {

    @Test
    void aTransientFailureIsRetriedUntilItClears() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        String result = TransientRetry.call("flaky store", Duration.ofSeconds(20), () -> {
            if (calls.incrementAndGet() < 3) {
                throw new ConnectException("Connection refused");
            }
            return "stored";
        });
        assertThat(result).isEqualTo("stored");
        assertThat(calls).hasValue(3);
    }

    @Test
    void everyAttemptRunsOnTheCallersThread() throws Exception {
        Thread caller = Thread.currentThread();
        java.util.List<Thread> threads = new java.util.ArrayList<>();
        TransientRetry.call("thread-bound work", Duration.ofSeconds(20), () -> {
            threads.add(Thread.currentThread());
            if (threads.size() < 3) {
                throw new ConnectException("Connection refused");
            }
            return null;
        });
        assertThat(threads).hasSize(3).containsOnly(caller);
    }

    @Test
    void badInputIsThrownAtOnceUnretried() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> TransientRetry.call("bad event", Duration.ofSeconds(20), () -> {
                    calls.incrementAndGet();
                    throw new InvalidInputException("version", "version must be a number, got 'x'");
                }))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("version must be a number, got 'x'");
        assertThat(calls).hasValue(1);
    }

    @Test
    void anOutageLongerThanTheBudgetEndsWithTheLastFailureAsItWas() {
        AtomicInteger calls = new AtomicInteger();
        long start = System.nanoTime();
        assertThatThrownBy(() -> TransientRetry.call("dead store", Duration.ofSeconds(3), () -> {
                    calls.incrementAndGet();
                    throw new IOException("Connection reset");
                }))
                .isExactlyInstanceOf(IOException.class)
                .hasMessage("Connection reset");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(calls.get()).isGreaterThan(2);
        // At least the first two pauses (500 ms and 1 s, each jittered by up to half): 750 ms. It gives
        // up early when the next jittered pause would overrun the budget, so ~0.9 s is a valid run.
        assertThat(took).isBetween(Duration.ofMillis(700), Duration.ofSeconds(15));
    }
}
