package dev.finetune.registry;

import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EvaluationCompleted;
import dev.finetune.events.EvaluationStatus;
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

/** {@link PoisonAcrossRestart} for the packaged registry-service's two consumers. */
@ExtendWith(LocalStackExtension.class)
class RegistryPoisonAcrossRestartIT {
    @AutoClose
    private PackagedService service;

    /**
     * The good records: an intermediate checkpoint (the registry waits for the final one) and a
     * failed evaluation of a job never seen (recorded as pending).
     */
    @Test
    void poisonBeforeAndAfterARestartIsDeadLetteredOnceAndTheEventsBehindItAreHandled(LocalStack stack)
            throws Exception {
        service = new PackagedService(stack, Map.of());
        PoisonAcrossRestart.check(
                service,
                new PoisonRecords(stack.kafkaBootstrapServers()),
                "registry-poison",
                List.of(
                        new PoisonAcrossRestart.Consumer(
                                "checkpoints.created",
                                "checkpoints.created.dlq.registry-service",
                                "registry-service",
                                CheckpointCreated.TYPE,
                                job -> json(new CheckpointCreated(
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
                                        Instant.now()))),
                        new PoisonAcrossRestart.Consumer(
                                "evaluations.completed",
                                "evaluations.completed.dlq.registry-service",
                                "registry-service",
                                EvaluationCompleted.TYPE,
                                job -> json(new EvaluationCompleted(
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
