package dev.finetune.service.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

/**
 * A dependency that hangs (a blackholed address, not a refused connection, which fails at once and
 * is what the outage tests meet) is reported DOWN within the check's bound, never waited for.
 */
class BoundedCheckTest {
    @Test
    void aProbeThatHangsIsReportedDownWithinTheBound() {
        long start = System.nanoTime();
        HealthCheckResponse answer = BoundedCheck.within(
                        () -> HealthCheckResponse.named("object-store").withData("bucket", "finetune"), () -> {
                            try {
                                Thread.sleep(30_000);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            return HealthCheckResponse.named("object-store")
                                    .up()
                                    .build();
                        })
                .await()
                .atMost(Duration.ofSeconds(10));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(answer.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
        assertThat(answer.getData().orElseThrow())
                .containsEntry("bucket", "finetune")
                .containsEntry("error", "no answer within 900 ms");
        // 900 ms and a timer's delay: the whole answer is due within 1 s; the bound leaves a loaded
        // machine a little room.
        assertThat(took).isGreaterThanOrEqualTo(BoundedCheck.TIMEOUT).isLessThan(Duration.ofMillis(1500));
    }

    @Test
    void aProbeThatFailsIsReportedDownWithItsReasonAtOnce() {
        HealthCheckResponse answer = BoundedCheck.within(() -> HealthCheckResponse.named("kafka"), () -> {
                    throw new IllegalStateException("Connection refused");
                })
                .await()
                .atMost(Duration.ofSeconds(10));

        assertThat(answer.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
        assertThat(answer.getData().orElseThrow()).containsEntry("error", "Connection refused");
    }
}
