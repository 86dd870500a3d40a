package dev.finetune.registry;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.ServiceContractTest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class RegistryServiceContractTest extends ServiceContractTest {}
