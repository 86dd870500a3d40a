package dev.finetune.registry;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.ServiceContractTest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Optional;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class RegistryServiceContractTest extends ServiceContractTest {
    /** Takes a promotion policy. */
    @Override
    protected Optional<JsonEndpoint> jsonEndpoint() {
        return Optional.of(new JsonEndpoint("PUT", "/api/models/contract-model/policy", "metric"));
    }
}
