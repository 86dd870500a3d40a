package dev.finetune.training;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.ServiceContractTest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Optional;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class TrainingServiceContractTest extends ServiceContractTest {
    /** Takes a job request. */
    @Override
    protected Optional<JsonEndpoint> jsonEndpoint() {
        return Optional.of(new JsonEndpoint("POST", "/api/jobs", "baseModel"));
    }
}
