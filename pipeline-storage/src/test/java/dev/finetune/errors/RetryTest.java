package dev.finetune.errors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RetryTest {
    private final Retry retry = new Retry("test", 3, Duration.ofMillis(1));

    @Test
    void transientFailuresAreRetriedUntilSuccess() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        String result = retry.call(() -> {
            if (calls.incrementAndGet() < 3) {
                throw new ConnectException("connection refused");
            }
            return "ok";
        });
        assertThat(result).isEqualTo("ok");
        assertThat(calls).hasValue(3);
    }

    @Test
    void retriesAreBoundedAndTheLastFailureIsRaised() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> retry.call(() -> {
                    throw new IOException("reset #" + calls.incrementAndGet());
                }))
                .hasMessage("reset #3");
        assertThat(calls).hasValue(3);
    }

    @Test
    void permanentFailureIsNotRetried() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> retry.call(() -> {
                    calls.incrementAndGet();
                    throw new InvalidInputException("field", "bad field");
                }))
                .hasMessage("bad field");
        assertThat(calls).hasValue(1);
    }

    @Test
    void causeChainDecidesRetriability() {
        assertThat(Failures.isRetriable(new RuntimeException(new java.net.SocketTimeoutException())))
                .isTrue();
        assertThat(Failures.isRetriable(new RuntimeException(new java.io.FileNotFoundException("x"))))
                .isFalse();
        assertThat(Failures.isRetriable(new IllegalStateException("bug"))).isFalse();
        assertThat(Failures.isRetriable(new java.nio.file.NoSuchFileException("/x")))
                .isFalse();
        assertThat(Failures.isRetriable(new java.io.IOException("unexpected end of stream")))
                .isTrue();
    }
}
