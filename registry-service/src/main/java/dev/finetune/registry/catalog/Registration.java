package dev.finetune.registry.catalog;

import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EvaluationCompleted;
import java.time.Instant;

/**
 * The claim of a version number, {@code registry/<model>/<version>/registration.json}, created
 * with If-None-Match so two jobs never get the same number. It holds every input of the version,
 * so a registration interrupted half-way is finished later with the same content.
 *
 * @param model the registered model name
 * @param version the claimed number
 * @param jobId the job whose final checkpoint this version holds
 * @param checkpoint the job's final checkpoint event
 * @param evaluation the evaluation of that checkpoint
 * @param traceId the trace of the checkpoint event (the job's trace, from dataset upload on)
 * @param evaluationTraceId the trace of the evaluation event
 * @param registeredAt when the number was claimed
 */
public record Registration(
        String model,
        long version,
        String jobId,
        CheckpointCreated checkpoint,
        EvaluationCompleted evaluation,
        String traceId,
        String evaluationTraceId,
        Instant registeredAt) {}
