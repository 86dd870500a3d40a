package dev.finetune.training.trigger;

import dev.finetune.contracts.JobIds;
import dev.finetune.events.DatasetPrepared;
import dev.finetune.events.TrainingJobRequested;
import dev.finetune.events.TrainingTrigger;
import dev.finetune.service.messaging.EventProcessing;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobService;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Applies datasets' training triggers: a {@code datasets.prepared} event that carries one becomes job
 * {@code ds-<dataset>-<version>}, submitted through the same validation as {@code POST /api/jobs}.
 * The job id is derived from the dataset version, so a redelivered or duplicated event submits the
 * same job and changes nothing.
 */
@ApplicationScoped
public class DatasetTriggers {
    private static final Logger LOG = Logger.getLogger(DatasetTriggers.class);

    private final JobService jobs;

    DatasetTriggers(JobService jobs) {
        this.jobs = jobs;
    }

    @Incoming("datasets-prepared")
    @Blocking
    public CompletionStage<Void> onPrepared(Message<DatasetPrepared> message) {
        return EventProcessing.process(message, (event, eventId) -> apply(event));
    }

    /** Submits the job the event's trigger asks for, if it has one. */
    public void apply(DatasetPrepared event) {
        TrainingTrigger trigger = event.trigger();
        if (trigger == null) {
            return;
        }
        JobService.Created created = jobs.submit(
                new TrainingJobRequested(
                        JobIds.forDataset(event.datasetName(), event.version()),
                        trigger.baseModel(),
                        event.datasetName(),
                        event.version(),
                        trigger.method(),
                        trigger.objective(),
                        trigger.hyperparameters(),
                        trigger.suffix(),
                        null,
                        event.preparedAt()),
                JobService.Origin.TRIGGER);
        JobRecord job = created.job();
        if (!created.existing()) {
            LOG.infof(
                    "dataset %s was prepared: its trigger requested job %s (%s)",
                    event.datasetId(), job.id(), job.state().code());
        }
    }
}
