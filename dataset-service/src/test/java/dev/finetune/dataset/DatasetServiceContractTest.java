package dev.finetune.dataset;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.ServiceContractTest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Optional;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class DatasetServiceContractTest extends ServiceContractTest {
    /** Takes a training trigger. */
    @Override
    protected Optional<JsonEndpoint> jsonEndpoint() {
        return Optional.of(new JsonEndpoint("PUT", "/api/datasets/contract-dataset/trigger", "baseModel"));
    }
}
