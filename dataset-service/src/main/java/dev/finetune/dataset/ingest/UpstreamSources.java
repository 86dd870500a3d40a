package dev.finetune.dataset.ingest;

import dev.finetune.dataset.DatasetSettings;
import dev.finetune.errors.InvalidInputException;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.S3Location;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Where a {@code datasets.submitted} event may point: the configured buckets and prefixes
 * ({@code pipeline.dataset.upstream.allowed}), never the pipeline's own bucket (an event naming it
 * would copy internal objects, such as another dataset or a checkpoint, into a new dataset).
 * Entries are {@code bucket} (any key in it) or {@code bucket/prefix} (keys under {@code prefix/}).
 */
@ApplicationScoped
public class UpstreamSources {
    static final String SETTING = "pipeline.dataset.upstream.allowed";
    private static final Logger LOG = Logger.getLogger(UpstreamSources.class);

    /** An allowed place: a bucket and a key prefix ending in '/', or "" for the whole bucket. */
    record Allowed(String bucket, String prefix) {
        static Allowed parse(String entry) {
            String trimmed = entry.strip();
            int slash = trimmed.indexOf('/');
            if (slash < 0) {
                return new Allowed(trimmed, "");
            }
            String prefix = trimmed.substring(slash + 1);
            return new Allowed(
                    trimmed.substring(0, slash), prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/");
        }

        boolean admits(S3Location location) {
            return bucket.equals(location.bucket()) && location.key().startsWith(prefix);
        }

        @Override
        public String toString() {
            return bucket + "/" + prefix;
        }
    }

    private final String ownBucket;
    private final List<Allowed> allowed;

    @Inject
    UpstreamSources(DatasetSettings settings, ObjectStore store) {
        this(store.bucket(), settings.upstream().allowed().orElse(List.of()));
    }

    UpstreamSources(String ownBucket, List<String> entries) {
        this.ownBucket = ownBucket;
        this.allowed = entries.stream()
                .filter(e -> !e.isBlank())
                .map(Allowed::parse)
                .filter(a -> {
                    if (a.bucket().equals(ownBucket)) {
                        LOG.warnf("%s names the pipeline's own bucket %s: ignored, it is never a source", SETTING, a);
                        return false;
                    }
                    return true;
                })
                .toList();
    }

    /** Refuses, naming the reason, an object the pipeline must not ingest from. */
    public void check(S3Location location) {
        if (location.bucket().equals(ownBucket)) {
            throw new InvalidInputException(
                    "objectUri", location + " is in the pipeline's own bucket, which is never a source of datasets");
        }
        for (String segment : location.key().split("/", -1)) {
            if (segment.equals("..") || segment.equals(".")) {
                throw new InvalidInputException(
                        "objectUri", location + " has a '" + segment + "' path segment; name the object directly");
            }
        }
        if (allowed.stream().noneMatch(a -> a.admits(location))) {
            throw new InvalidInputException(
                    "objectUri",
                    location + " is not in an allowed upstream location ("
                            + (allowed.isEmpty() ? "none is configured" : "allowed: " + allowed) + "; set " + SETTING
                            + ")");
        }
    }
}
