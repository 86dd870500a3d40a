package dev.finetune.registry;

import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EvaluationCompleted;
import dev.finetune.events.EvaluationStatus;
import dev.finetune.events.EventJson;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.PoisonRecordContractTest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class RegistryPoisonRecordTest extends PoisonRecordContractTest {
    /**
     * checkpoints.created: an intermediate checkpoint (the registry waits for the final one);
     * evaluations.completed: a failed evaluation of a job never seen (recorded as pending).
     */
    @Override
    protected ValidEvent validEvent(String channel) throws Exception {
        String job = "poison-" + UUID.randomUUID().toString().substring(0, 8);
        String json =
                switch (channel) {
                    case "checkpoints-created" -> EventJson.mapper()
                            .writeValueAsString(new CheckpointCreated(
                                    job,
                                    1,
                                    10,
                                    "checkpoints/" + job + "/step-1/",
                                    "tiny-qwen3",
                                    "poison",
                                    "1",
                                    FineTuneMethod.LORA,
                                    Objective.SFT,
                                    null,
                                    null,
                                    null,
                                    false,
                                    Instant.now()));
                    case "evaluations-completed" -> EventJson.mapper()
                            .writeValueAsString(new EvaluationCompleted(
                                    job + "-step-1",
                                    job,
                                    "checkpoints/" + job + "/step-1/",
                                    1,
                                    EvaluationStatus.ERROR,
                                    Map.of(),
                                    Map.of(),
                                    Map.of(),
                                    List.of(),
                                    List.of(),
                                    null,
                                    "checkpoint could not be loaded",
                                    Instant.now()));
                    default -> throw new IllegalArgumentException("no valid event for channel " + channel);
                };
        String enumField = channel.equals("checkpoints-created") ? "\"method\":\"lora\"" : "\"status\":\"error\"";
        if (!json.contains(enumField)) {
            throw new IllegalStateException(json + " has no " + enumField);
        }
        return new ValidEvent(json, json.replace(enumField, enumField.replaceAll(":\"[a-z]+\"", ":\"no-such-code\"")));
    }
}
