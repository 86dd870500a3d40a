package dev.finetune.dataset.ingest;

import dev.finetune.dataset.DatasetSettings;
import dev.finetune.storage.AllowedSources;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.S3Location;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;

/**
 * Where a {@code datasets.submitted} event may point: the configured buckets and prefixes
 * ({@code pipeline.dataset.upstream.allowed}), never the pipeline's own bucket (an event naming it
 * would copy internal objects, such as another dataset or a checkpoint, into a new dataset). The
 * rules are {@link AllowedSources}'; the registry's base-model imports follow the same ones.
 */
@ApplicationScoped
public class UpstreamSources {
    static final AllowedSources.Purpose PURPOSE =
            new AllowedSources.Purpose("pipeline.dataset.upstream.allowed", "objectUri", "datasets");

    private final AllowedSources sources;

    @Inject
    UpstreamSources(DatasetSettings settings, ObjectStore store) {
        this(store.bucket(), settings.upstream().allowed().orElse(List.of()));
    }

    UpstreamSources(String ownBucket, List<String> entries) {
        this.sources = new AllowedSources(ownBucket, entries, PURPOSE);
    }

    /** Refuses, naming the reason, an object the pipeline must not ingest from. */
    public void check(S3Location location) {
        sources.check(location);
    }
}
