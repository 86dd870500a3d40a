package dev.finetune.storage;

import java.net.URI;
import java.time.Duration;

/**
 * How to reach the object store. Credentials come from configuration or the environment and are
 * never logged: {@link #toString()} masks them.
 *
 * @param endpoint the S3 endpoint, e.g. {@code http://127.0.0.1:9000} or {@code https://minio.ml.svc:9000}
 * @param accessKey the access key id
 * @param secretKey the secret key
 * @param bucket the one bucket that holds the whole layout of {@link ObjectKeys}
 * @param region the region to sign for; MinIO and s3proxy accept {@code us-east-1}
 * @param partSize multipart part size for uploads of unknown length (S3 minimum 5 MiB)
 * @param maxAttempts how many times a retriable operation is tried before its error is raised
 * @param initialBackoff the pause before the first retry; doubles on each retry
 */
public record ObjectStoreConfig(
        URI endpoint,
        String accessKey,
        String secretKey,
        String bucket,
        String region,
        long partSize,
        int maxAttempts,
        Duration initialBackoff) {

    /** 16 MiB parts: 1,000 parts make 16 GiB, well within S3's 10,000-part limit for large datasets. */
    public static final long DEFAULT_PART_SIZE = 16L * 1024 * 1024;

    public ObjectStoreConfig {
        if (endpoint == null || endpoint.getScheme() == null || endpoint.getHost() == null) {
            throw new IllegalArgumentException(
                    "object store endpoint must be an absolute http(s) URL, got " + endpoint);
        }
        if (accessKey == null || accessKey.isBlank() || secretKey == null || secretKey.isBlank()) {
            throw new IllegalArgumentException("object store access key and secret key must be set");
        }
        if (bucket == null || !bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
            throw new IllegalArgumentException(
                    "object store bucket must be a valid S3 bucket name, got '" + bucket + "'");
        }
        if (partSize < 5L * 1024 * 1024) {
            throw new IllegalArgumentException("object store part size must be at least 5 MiB, got " + partSize);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("object store max attempts must be >= 1, got " + maxAttempts);
        }
    }

    /** Defaults for everything but the location and credentials. */
    public static ObjectStoreConfig of(String endpoint, String accessKey, String secretKey, String bucket) {
        return new ObjectStoreConfig(
                URI.create(endpoint),
                accessKey,
                secretKey,
                bucket,
                "us-east-1",
                DEFAULT_PART_SIZE,
                4,
                Duration.ofMillis(200));
    }

    @Override
    public String toString() {
        return "ObjectStoreConfig[endpoint=" + endpoint + ", bucket=" + bucket + ", region=" + region
                + ", accessKey=****, secretKey=****]";
    }
}
