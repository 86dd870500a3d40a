package dev.finetune.eval;

import dev.finetune.events.EventJson;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.PoisonRecordContractTest;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.UUID;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class EvalPoisonRecordTest extends PoisonRecordContractTest {
    @Inject
    ObjectStore store;

    /** A checkpoint with nothing stored under it: evaluated as status error, and acknowledged. */
    @Override
    protected ValidEvent validEvent(String channel) throws Exception {
        if (!channel.equals("checkpoints")) {
            throw new IllegalArgumentException("no valid event for channel " + channel);
        }
        Fixtures.prepare(store);
        String job = "poison-" + UUID.randomUUID().toString().substring(0, 8);
        String json =
                EventJson.mapper().writeValueAsString(Broker.checkpoint(job, 1, "checkpoints/" + job + "/step-1/"));
        return new ValidEvent(json, json.replace("\"objective\":\"sft\"", "\"objective\":\"no-such-objective\""));
    }
}
