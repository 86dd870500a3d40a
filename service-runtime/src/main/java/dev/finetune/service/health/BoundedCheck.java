package dev.finetune.service.health;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import java.time.Duration;
import java.util.function.Supplier;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * Runs a readiness probe off the event loop (it does network I/O) and answers within {@link
 * #TIMEOUT}: a dependency that is away is reported DOWN, never waited for, so {@code /q/health}
 * answers within a second and an orchestrator's probe never times out instead of reading DOWN.
 */
final class BoundedCheck {
    /** The whole health answer must come within 1 s; each probe gets a little less. */
    static final Duration TIMEOUT = Duration.ofMillis(900);

    private BoundedCheck() {}

    /**
     * @param named a builder named for the dependency, with the data to report either way
     * @param probe builds the UP answer, or throws
     */
    static Uni<HealthCheckResponse> within(
            Supplier<HealthCheckResponseBuilder> named, Supplier<HealthCheckResponse> probe) {
        return Uni.createFrom()
                .item(probe)
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .ifNoItem()
                .after(TIMEOUT)
                .failWith(() -> new IllegalStateException("no answer within " + TIMEOUT.toMillis() + " ms"))
                .onFailure()
                .recoverWithItem(failure -> named.get()
                        .down()
                        .withData("error", String.valueOf(failure.getMessage()))
                        .build());
    }
}
