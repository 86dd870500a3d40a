package dev.finetune.storage;

import dev.finetune.errors.InvalidInputException;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * The places a service may read objects from when a request or an event names them (a dataset's
 * upstream export, a base model's files): the buckets and prefixes an operator configured, never
 * the pipeline's own bucket. A request naming the pipeline's bucket would copy internal objects (a
 * dataset, a checkpoint, another model) past the API that guards them; a request naming any bucket
 * the service's credentials reach would do the same for everything else in the account.
 *
 * <p>Entries are {@code bucket} (any key in it) or {@code bucket/prefix} (keys under {@code prefix/}:
 * a prefix is a folder, not the start of a name). With no entry, every location is refused, saying
 * which setting to set.
 */
public final class AllowedSources {
    private static final Logger LOG = Logger.getLogger(AllowedSources.class);

    /** What the sources are for and where that is configured, for messages. */
    public record Purpose(String setting, String field, String noun) {}

    /** An allowed place: a bucket and a key prefix ending in '/', or "" for the whole bucket. */
    private record Allowed(String bucket, String prefix) {
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
    private final Purpose purpose;

    /**
     * @param ownBucket the pipeline's bucket, refused even when an entry names it (a warning is logged)
     * @param entries the configured {@code bucket} or {@code bucket/prefix} entries; blank ones are skipped
     */
    public AllowedSources(String ownBucket, List<String> entries, Purpose purpose) {
        this.ownBucket = ownBucket;
        this.purpose = purpose;
        this.allowed = entries.stream()
                .filter(e -> !e.isBlank())
                .map(Allowed::parse)
                .filter(a -> {
                    if (a.bucket().equals(ownBucket)) {
                        LOG.warnf(
                                "%s names the pipeline's own bucket %s: ignored, it is never a source",
                                purpose.setting(), a);
                        return false;
                    }
                    return true;
                })
                .toList();
    }

    /**
     * Refuses, naming the reason and the request's field, a location the service must not read from.
     *
     * @throws InvalidInputException for the pipeline's own bucket, a '.' or '..' key segment, or a
     *     location under no configured entry
     */
    public void check(S3Location location) {
        if (location.bucket().equals(ownBucket)) {
            throw new InvalidInputException(
                    purpose.field(),
                    location + " is in the pipeline's own bucket, which is never a source of " + purpose.noun());
        }
        for (String segment : location.key().split("/", -1)) {
            if (segment.equals("..") || segment.equals(".")) {
                throw new InvalidInputException(
                        purpose.field(), location + " has a '" + segment + "' path segment; name the object directly");
            }
        }
        if (allowed.stream().noneMatch(a -> a.admits(location))) {
            throw new InvalidInputException(
                    purpose.field(),
                    location + " is not in an allowed source location for " + purpose.noun() + " ("
                            + (allowed.isEmpty() ? "none is configured" : "allowed: " + allowed) + "; set "
                            + purpose.setting() + ")");
        }
    }
}
