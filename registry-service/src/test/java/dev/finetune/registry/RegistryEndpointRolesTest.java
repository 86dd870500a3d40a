package dev.finetune.registry;

import dev.finetune.registry.api.ModelResource;
import dev.finetune.service.security.EndpointRolesContractTest;

class RegistryEndpointRolesTest extends EndpointRolesContractTest {
    @Override
    protected Class<?> serviceClass() {
        return ModelResource.class;
    }
}
