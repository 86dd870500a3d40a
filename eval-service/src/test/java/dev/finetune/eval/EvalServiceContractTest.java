package dev.finetune.eval;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.ServiceContractTest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Optional;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class EvalServiceContractTest extends ServiceContractTest {
    /** Takes an evaluation request. */
    @Override
    protected Optional<JsonEndpoint> jsonEndpoint() {
        return Optional.of(new JsonEndpoint("POST", "/api/evaluations", "baseModel"));
    }
}
