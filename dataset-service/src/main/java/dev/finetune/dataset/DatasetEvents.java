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

    /** Publishes the version's outcome; returns the CloudEvents id it was published with. */
    public String prepared(DatasetPrepared event) {
        String id = "prepared:" + event.datasetId();
        messages.sendAndAwait(prepared, event, id);
        return id;
    }

    /** Publishes the version's outcome; returns the CloudEvents id it was published with. */
    public String rejected(DatasetRejected event) {
        String id = "rejected:" + event.datasetId();
        messages.sendAndAwait(rejected, event, id);
        return id;
    }
}
