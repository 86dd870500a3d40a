package dev.finetune.dataset;

import dev.finetune.dataset.api.DatasetResource;
import dev.finetune.service.security.EndpointRolesContractTest;

class DatasetEndpointRolesTest extends EndpointRolesContractTest {
    @Override
    protected Class<?> serviceClass() {
        return DatasetResource.class;
    }
}
