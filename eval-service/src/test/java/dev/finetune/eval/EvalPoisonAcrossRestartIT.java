package dev.finetune.eval;

import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EventJson;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.service.testing.PackagedService;
import dev.finetune.service.testing.PoisonAcrossRestart;
import dev.finetune.service.testing.PoisonRecords;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link PoisonAcrossRestart} for the packaged eval-service's one consumer, of checkpoints.created. */
@ExtendWith(LocalStackExtension.class)
class EvalPoisonAcrossRestartIT {
    @AutoClose
    private PackagedService service;

    /** The good record: a final checkpoint with nothing stored under it, evaluated as status error. */
    @Test
    void poisonBeforeAndAfterARestartIsDeadLetteredOnceAndTheCheckpointBehindItIsEvaluated(LocalStack stack)
            throws Exception {
        service = new PackagedService(stack, Map.of());
        PoisonAcrossRestart.check(
                service,
                new PoisonRecords(stack.kafkaBootstrapServers()),
                "eval-poison",
                List.of(new PoisonAcrossRestart.Consumer(
                        "checkpoints.created",
                        "checkpoints.created.dlq.eval-service",
                        "eval-service",
                        CheckpointCreated.TYPE,
                        job -> json(new CheckpointCreated(
                                job,
                                1,
                                1,
                                "checkpoints/" + job + "/step-1/",
                                "tiny-qwen3",
                                "poison",
                                "1",
                                FineTuneMethod.LORA,
                                Objective.SFT,
                                null,
                                null,
                                null,
                                true,
                                Instant.now())))));
    }

    private static String json(Object event) {
        try {
            return EventJson.mapper().writeValueAsString(event);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
