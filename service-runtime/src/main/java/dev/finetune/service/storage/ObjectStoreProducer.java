package dev.finetune.service.storage;

import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.URI;

/** Makes the service's one {@link ObjectStore} client from configuration. */
public class ObjectStoreProducer {

    @Produces
    @Singleton
    ObjectStore objectStore(ObjectStoreSettings settings) {
        return new ObjectStore(new ObjectStoreConfig(
                URI.create(settings.endpoint()),
                settings.accessKey(),
                settings.secretKey(),
                settings.bucket(),
                settings.region(),
                settings.partSize(),
                settings.maxAttempts(),
                settings.initialBackoff()));
    }

    void close(@Disposes ObjectStore store) throws Exception {
        store.close();
    }
}
