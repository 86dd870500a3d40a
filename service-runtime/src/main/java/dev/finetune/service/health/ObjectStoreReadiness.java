package dev.finetune.service.health;

import dev.finetune.storage.ObjectStore;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while the object store answers and the bucket exists (it is created if missing, so a
 * fresh MinIO needs no manual step). Answers within a second ({@link BoundedCheck}).
 */
@Readiness
@ApplicationScoped
public class ObjectStoreReadiness implements AsyncHealthCheck {
    private final ObjectStore store;

    ObjectStoreReadiness(ObjectStore store) {
        this.store = store;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return BoundedCheck.within(
                () -> HealthCheckResponse.named("object-store").withData("bucket", store.bucket()), () -> {
                    store.ensureBucket();
                    return HealthCheckResponse.named("object-store")
                            .up()
                            .withData("bucket", store.bucket())
                            .build();
                });
    }
}
