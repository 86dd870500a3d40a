package dev.finetune.service.storage;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/**
 * Where the object store is: {@code pipeline.object-store.*}, or the environment variables
 * {@code PIPELINE_OBJECT_STORE_ENDPOINT}, {@code ..._ACCESS_KEY}, {@code ..._SECRET_KEY} (from a
 * Kubernetes Secret). For TLS use an {@code https://} endpoint; a private CA goes in the JVM's trust
 * store ({@code -Djavax.net.ssl.trustStore}).
 */
@ConfigMapping(prefix = "pipeline.object-store")
public interface ObjectStoreSettings {
    /** The S3 endpoint URL. */
    String endpoint();

    String accessKey();

    String secretKey();

    /** The bucket holding the whole key layout. */
    @WithDefault("finetune")
    String bucket();

    /** MinIO and s3proxy accept any region; AWS needs the bucket's. */
    @WithDefault("us-east-1")
    String region();

    /** Multipart part size for uploads of unknown length: 16 MiB parts reach 160 GiB in 10,000 parts. */
    @WithDefault("16777216")
    long partSize();

    /** Attempts per replayable operation before its transient error is raised. */
    @WithDefault("4")
    int maxAttempts();

    /** First retry pause, doubled each retry: 200 ms + 400 ms + 800 ms rides out a short blip. */
    @WithDefault("200ms")
    Duration initialBackoff();
}
