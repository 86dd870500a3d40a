package dev.finetune.dataset.ingest;

import dev.finetune.events.DatasetFormat;
import dev.finetune.events.DatasetSubmitted;
import dev.finetune.service.messaging.EventProcessing;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.S3Location;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Ingests datasets that upstream systems announce on {@code datasets.submitted}: the object they
 * name is copied, unmodified, into a new version. The same event delivered twice, or the same bytes
 * submitted twice, make one version. Only objects in the allowed upstream locations are read
 * ({@link UpstreamSources}). A submission that cannot succeed (bad URI, a location not allowed,
 * missing object, hash mismatch, past the decompression limits) goes to the dead-letter topic with
 * the reason.
 */
@ApplicationScoped
public class DatasetSubmissionConsumer {
    /** Label an upstream system may set to choose the tokenizer for the statistics. */
    static final String TOKENIZER_LABEL = "tokenizer";

    private final ObjectStore store;
    private final DatasetIngestion ingestion;
    private final UpstreamSources sources;

    DatasetSubmissionConsumer(ObjectStore store, DatasetIngestion ingestion, UpstreamSources sources) {
        this.store = store;
        this.ingestion = ingestion;
        this.sources = sources;
    }

    @Incoming("datasets-submitted")
    @Blocking
    public CompletionStage<Void> onSubmitted(Message<DatasetSubmitted> message) {
        return EventProcessing.process(message, this::ingest);
    }

    IngestOutcome ingest(DatasetSubmitted event, String eventId) throws Exception {
        S3Location from = S3Location.parse(event.objectUri());
        sources.check(from);
        Map<String, String> labels = event.labels() == null ? Map.of() : event.labels();
        IngestRequest request = new IngestRequest(
                event.datasetName(),
                event.version(),
                event.format() == null ? DatasetFormat.AUTO : event.format(),
                from.toString(),
                eventId,
                event.sha256(),
                labels.get(TOKENIZER_LABEL),
                labels);
        try (InputStream in = store.get(from)) {
            return ingestion.ingest(request, in, -1);
        }
    }
}
