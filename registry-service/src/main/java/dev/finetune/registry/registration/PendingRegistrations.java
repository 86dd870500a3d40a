package dev.finetune.registry.registration;

import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EvaluationCompleted;
import dev.finetune.events.EvaluationStatus;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.Optional;

/**
 * What the registry has seen of a job that is not registered yet, under {@code
 * registry/_pending/<job>/}: its final checkpoint and the evaluations of its checkpoints (the
 * evaluation may come first: the final step is known only from the checkpoint). Each event writes
 * its own object, so the two consumers never overwrite each other.
 */
@ApplicationScoped
public class PendingRegistrations {
    private final ObjectStore store;
    private final JsonObjects json;

    PendingRegistrations(ObjectStore store, JsonObjects json) {
        this.store = store;
        this.json = json;
    }

    /** A final checkpoint event as received. */
    public record PendingCheckpoint(CheckpointCreated event, String eventId, String traceId, Instant receivedAt) {}

    /** An evaluation event as received. */
    public record PendingEvaluation(EvaluationCompleted event, String eventId, String traceId, Instant receivedAt) {}

    public void recordCheckpoint(CheckpointCreated event, String eventId, String traceId) {
        json.write(
                RegistryKeys.pendingCheckpoint(event.jobId()),
                new PendingCheckpoint(event, eventId, traceId, Instant.now()));
    }

    /**
     * Records an evaluation. An evaluation that scored the checkpoint is never replaced by a later
     * error for the same step (a retried evaluation that failed does not undo a result).
     */
    public void recordEvaluation(EvaluationCompleted event, String eventId, String traceId) {
        String key = RegistryKeys.pendingEvaluation(event.jobId(), event.step());
        if (event.status() == EvaluationStatus.ERROR) {
            Optional<PendingEvaluation> previous = json.read(key, PendingEvaluation.class);
            if (previous.isPresent() && previous.get().event().status() != EvaluationStatus.ERROR) {
                return;
            }
        }
        json.write(key, new PendingEvaluation(event, eventId, traceId, Instant.now()));
    }

    public Optional<PendingCheckpoint> checkpoint(String jobId) {
        return json.read(RegistryKeys.pendingCheckpoint(jobId), PendingCheckpoint.class);
    }

    public Optional<PendingEvaluation> evaluation(String jobId, long step) {
        return json.read(RegistryKeys.pendingEvaluation(jobId, step), PendingEvaluation.class);
    }

    public boolean exists(String jobId) {
        return !store.list(RegistryKeys.pendingPrefix(jobId)).isEmpty();
    }

    /** Forgets the job: called once its version is complete and announced. */
    public void clear(String jobId) {
        for (ObjectInfo object : store.list(RegistryKeys.pendingPrefix(jobId))) {
            store.delete(object.key());
        }
    }
}
