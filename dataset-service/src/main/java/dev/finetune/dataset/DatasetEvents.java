package dev.finetune.dataset;

import dev.finetune.events.DatasetIngested;
import dev.finetune.events.DatasetPrepared;
import dev.finetune.events.DatasetRejected;
import dev.finetune.service.messaging.CloudEventMessages;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

/**
 * The events the dataset-service publishes. Event ids are derived from what they announce, so an
 * event re-sent after a crash has the id of the first one and consumers recognise it.
 */
@ApplicationScoped
public class DatasetEvents {
    private final CloudEventMessages messages;
    private final Emitter<DatasetIngested> ingested;
    private final Emitter<DatasetPrepared> prepared;
    private final Emitter<DatasetRejected> rejected;

    DatasetEvents(
            CloudEventMessages messages,
            @Channel("datasets-ingested-out") Emitter<DatasetIngested> ingested,
            @Channel("datasets-prepared-out") Emitter<DatasetPrepared> prepared,
            @Channel("datasets-rejected-out") Emitter<DatasetRejected> rejected) {
        this.messages = messages;
        this.ingested = ingested;
        this.prepared = prepared;
        this.rejected = rejected;
    }

    /** Each send waits for the broker's acknowledgement, so a caller knows the event is durable. */
    public void ingested(DatasetIngested event) {
        messages.sendAndAwait(ingested, event, "ingested:" + event.datasetId());
    }

    public void prepared(DatasetPrepared event) {
        messages.sendAndAwait(prepared, event, "prepared:" + event.datasetId());
    }

    public void rejected(DatasetRejected event) {
        messages.sendAndAwait(rejected, event, "rejected:" + event.datasetId());
    }
}
