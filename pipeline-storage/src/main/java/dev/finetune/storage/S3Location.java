package dev.finetune.storage;

import dev.finetune.errors.InvalidInputException;
import java.net.URI;

/**
 * An object named by an upstream system as {@code s3://bucket/key}, possibly outside our bucket.
 *
 * @param bucket the bucket
 * @param key the object key
 */
public record S3Location(String bucket, String key) {
    public S3Location {
        if (bucket == null || !bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
            throw new InvalidInputException("objectUri", "not a valid S3 bucket name: '" + bucket + "'");
        }
        if (key == null || key.isEmpty() || key.length() > 1024) {
            throw new InvalidInputException("objectUri", "S3 key must be 1-1024 characters, got '" + key + "'");
        }
    }

    /** Parses {@code s3://bucket/key}; anything else is refused with the value. */
    public static S3Location parse(URI uri) {
        if (uri == null
                || !"s3".equals(uri.getScheme())
                || uri.getHost() == null
                || uri.getPath() == null
                || uri.getPath().length() < 2) {
            throw new InvalidInputException("objectUri", "objectUri must look like s3://bucket/key, got '" + uri + "'");
        }
        return new S3Location(uri.getHost(), uri.getPath().substring(1));
    }

    @Override
    public String toString() {
        return "s3://" + bucket + "/" + key;
    }
}
