package dev.finetune.eval;

import dev.finetune.eval.api.EvaluationResource;
import dev.finetune.service.security.EndpointRolesContractTest;

class EvalEndpointRolesTest extends EndpointRolesContractTest {
    @Override
    protected Class<?> serviceClass() {
        return EvaluationResource.class;
    }
}
