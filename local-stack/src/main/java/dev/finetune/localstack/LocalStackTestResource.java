package dev.finetune.localstack;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Quarkus test resource: points a service under test at the JVM's shared {@link LocalStack} (real
 * Kafka, real S3). Use with {@code @WithTestResource(LocalStackTestResource.class)}; every test
 * class of the module gets the same servers.
 */
public final class LocalStackTestResource implements QuarkusTestResourceLifecycleManager {
    @Override
    public Map<String, String> start() {
        return SharedLocalStack.get().serviceConfig();
    }

    @Override
    public void stop() {
        // The stack outlives one Quarkus application: the next test class reuses it. It stops with the JVM.
    }
}
