package dev.finetune.training;

import dev.finetune.service.security.EndpointRolesContractTest;
import dev.finetune.training.api.JobResource;

class TrainingEndpointRolesTest extends EndpointRolesContractTest {
    @Override
    protected Class<?> serviceClass() {
        return JobResource.class;
    }
}
