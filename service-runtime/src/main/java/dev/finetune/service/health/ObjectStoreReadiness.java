package dev.finetune.service.health;

import dev.finetune.storage.ObjectStore;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while the object store answers and the bucket exists (it is created if missing, so a
 * fresh MinIO needs no manual step). The check runs off the event loop: it does network I/O.
 */
@Readiness
@ApplicationScoped
public class ObjectStoreReadiness implements AsyncHealthCheck {
    /** Health answers within 1 s: a store that is away is reported DOWN, never waited for. */
    private static final Duration TIMEOUT = Duration.ofMillis(900);

    private final ObjectStore store;

    ObjectStoreReadiness(ObjectStore store) {
        this.store = store;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return Uni.createFrom()
                .item(() -> {
                    store.ensureBucket();
                    return HealthCheckResponse.named("object-store")
                            .up()
                            .withData("bucket", store.bucket())
                            .build();
                })
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .ifNoItem()
                .after(TIMEOUT)
                .failWith(() -> new IllegalStateException("no answer within " + TIMEOUT.toMillis() + " ms"))
                .onFailure()
                .recoverWithItem(failure -> HealthCheckResponse.named("object-store")
                        .down()
                        .withData("bucket", store.bucket())
                        .withData("error", String.valueOf(failure.getMessage()))
                        .build());
    }
}
