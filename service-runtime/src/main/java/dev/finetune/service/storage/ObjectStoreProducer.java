package dev.finetune.service.storage;

import dev.finetune.service.metrics.ObjectStoreMetrics;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.URI;
import org.jboss.logging.Logger;

/**
 * Makes the service's one {@link ObjectStore} client from configuration, every call of which is
 * timed and counted ({@link ObjectStoreMetrics}).
 */
public class ObjectStoreProducer {

    private static final Logger LOG = Logger.getLogger(ObjectStoreProducer.class);

    /**
     * The bucket is created when the service starts, so the first request never meets a store
     * without it. If the store is not reachable yet, the service still starts (not ready): the
     * readiness check creates the bucket once the store answers.
     */
    void createBucket(@Observes StartupEvent event, ObjectStore store) {
        try {
            store.ensureBucket();
        } catch (RuntimeException e) {
            LOG.warnf("object store not reachable at startup (%s); readiness will retry", e.getMessage());
        }
    }

    @Produces
    @Singleton
    ObjectStore objectStore(ObjectStoreSettings settings, MeterRegistry registry) {
        return new ObjectStore(
                new ObjectStoreConfig(
                        URI.create(settings.endpoint()),
                        settings.accessKey(),
                        settings.secretKey(),
                        settings.bucket(),
                        settings.region(),
                        settings.partSize(),
                        settings.maxAttempts(),
                        settings.initialBackoff()),
                new ObjectStoreMetrics(registry));
    }

    void close(@Disposes ObjectStore store) throws Exception {
        store.close();
    }
}
