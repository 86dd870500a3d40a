package dev.finetune.training.job;

import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.JobState;
import dev.finetune.events.PipelineEvent;
import dev.finetune.events.TrainingEvent;
import dev.finetune.events.TrainingEventKind;
import dev.finetune.service.messaging.CloudEventMessages;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.function.UnaryOperator;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.jboss.logging.Logger;

/**
 * Publishes what happens to jobs: numbered training events (also kept in the job's log for the
 * API) on {@code training.events}, checkpoints on {@code checkpoints.created}, job requests on
 * {@code training.jobs}. Sends wait for the broker's acknowledgement, except progress metrics'.
 */
@ApplicationScoped
public class JobEvents {
    private static final Logger LOG = Logger.getLogger(JobEvents.class);

    private final JobStore jobs;
    private final CloudEventMessages messages;
    private final Emitter<TrainingEvent> events;
    private final Emitter<CheckpointCreated> checkpoints;
    private final Emitter<dev.finetune.events.TrainingJobRequested> requests;

    JobEvents(
            JobStore jobs,
            CloudEventMessages messages,
            @Channel("training-events-out") Emitter<TrainingEvent> events,
            @Channel("checkpoints-out") Emitter<CheckpointCreated> checkpoints,
            @Channel("training-jobs-out") Emitter<dev.finetune.events.TrainingJobRequested> requests) {
        this.jobs = jobs;
        this.messages = messages;
        this.events = events;
        this.checkpoints = checkpoints;
        this.requests = requests;
    }

    /** Records and publishes a state change. */
    public void state(String jobId, JobState state, String message) {
        publish(jobId, TrainingEventKind.STATE, state, message, null);
    }

    /**
     * Records progress (the record's step, in the same write that numbers the event) and publishes
     * it without waiting for the broker: a newer report supersedes it, and the job's log has it
     * either way. A send the broker refuses is logged.
     */
    public void metrics(String jobId, TrainingEvent.Metrics metrics) {
        TrainingEvent event = append(
                jobId,
                job -> job.withProgress(metrics.step(), metrics.totalSteps()),
                TrainingEventKind.METRICS,
                JobState.RUNNING,
                null,
                metrics);
        messages.send(events, event, eventId(event)).exceptionally(failure -> {
            LOG.warnf(
                    "job %s: metrics event %d not published (%s); it is in the job's event log",
                    jobId, event.sequence(), failure.getMessage());
            return null;
        });
    }

    public void checkpoint(CheckpointCreated checkpoint) {
        publish(
                checkpoint.jobId(),
                TrainingEventKind.CHECKPOINT,
                JobState.RUNNING,
                (checkpoint.isFinal() ? "final result at " : "checkpoint at ") + checkpoint.prefix(),
                null);
        send(checkpoints, checkpoint, checkpointEventId(checkpoint));
    }

    /**
     * The CloudEvents id of a checkpoint fact: its job, step and finality, so a retried send of the
     * same fact keeps its id (and consumers drop the repeat), while the job's final result is a fact
     * of its own even where it shares its step's prefix.
     */
    static String checkpointEventId(CheckpointCreated checkpoint) {
        return "checkpoint:" + checkpoint.jobId() + ":step-" + checkpoint.step()
                + (checkpoint.isFinal() ? ":final" : "");
    }

    /** Puts a job's request on {@code training.jobs} under the CloudEvents id {@code eventId}. */
    public void requested(dev.finetune.events.TrainingJobRequested request, String eventId) {
        send(requests, request, eventId);
    }

    private void publish(
            String jobId, TrainingEventKind kind, JobState state, String message, TrainingEvent.Metrics m) {
        TrainingEvent event = append(jobId, UnaryOperator.identity(), kind, state, message, m);
        send(events, event, eventId(event));
    }

    private TrainingEvent append(
            String jobId,
            UnaryOperator<JobRecord> change,
            TrainingEventKind kind,
            JobState state,
            String message,
            TrainingEvent.Metrics m) {
        TrainingEvent[] event = new TrainingEvent[1];
        jobs.appendEvent(
                jobId,
                change,
                sequence -> event[0] = new TrainingEvent(jobId, sequence, kind, state, message, m, Instant.now()));
        return event[0];
    }

    /** A training event's CloudEvents id: its job and sequence, the same on every retry. */
    private static String eventId(TrainingEvent event) {
        return event.jobId() + ":" + event.sequence();
    }

    private <E extends PipelineEvent> void send(Emitter<E> emitter, E event, String id) {
        messages.sendAndAwait(emitter, event, id);
    }
}
