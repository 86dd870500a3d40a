package dev.finetune.storage;

import dev.finetune.errors.Retry;
import io.minio.BucketExistsArgs;
import io.minio.CopyObjectArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.Http;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.ObjectWriteResponse;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.SourceObject;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The pipeline's object store (MinIO or any S3) behind one small API, on one bucket that holds the
 * layout of {@link ObjectKeys}. Large objects stream in both directions: a put of unknown length is
 * a multipart upload in {@link ObjectStoreConfig#partSize()} parts, so nothing is held in memory.
 *
 * <p>Operations whose input can be replayed (byte arrays, files, reads, stats, listings) are
 * retried on transient errors with a bounded backoff; a put from a caller's stream is not, because
 * the stream cannot be rewound.
 */
public final class ObjectStore implements AutoCloseable {
    private static final Set<String> NOT_FOUND_CODES = Set.of("NoSuchKey", "NoSuchBucket", "NoSuchObject");
    /** A conditional put's "no": the key is taken or the ETag moved on. */
    private static final Set<String> PRECONDITION_CODES = Set.of("PreconditionFailed", "ConditionalRequestConflict");

    private static final Logger LOG = Logger.getLogger(ObjectStore.class);

    private final ObjectStoreConfig config;
    private final MinioClient client;
    private final Retry retry;
    private final ObjectStoreObserver observer;

    public ObjectStore(ObjectStoreConfig config) {
        this(config, ObjectStoreObserver.NONE);
    }

    /** A store that tells {@code observer} about every call it makes (each once, retries included). */
    public ObjectStore(ObjectStoreConfig config, ObjectStoreObserver observer) {
        this.config = config;
        this.observer = observer;
        this.client = MinioClient.builder()
                .endpoint(config.endpoint().toString())
                .credentials(config.accessKey(), config.secretKey())
                .region(config.region())
                .build();
        this.retry = new Retry("object store", config.maxAttempts(), config.initialBackoff());
    }

    public String bucket() {
        return config.bucket();
    }

    /** Creates the bucket if it does not exist. Safe to call from every service at start. */
    public void ensureBucket() {
        run("ensure_bucket", config.bucket(), () -> {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket()).build())) {
                try {
                    client.makeBucket(MakeBucketArgs.builder().bucket(bucket()).build());
                } catch (ErrorResponseException e) {
                    // Another service created it between our check and our call: that is what we wanted.
                    if (!Set.of("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
                            .contains(e.errorResponse().code())) {
                        throw e;
                    }
                }
            }
            return null;
        });
    }

    /**
     * Streams {@code in} to {@code key} without buffering it whole; not retried (see class doc).
     *
     * @param size the exact length, or -1 if unknown (then uploaded in parts)
     */
    public StoredObject put(String key, InputStream in, long size, String contentType) {
        return call("put", key, () -> upload(key, in, size, contentType));
    }

    /** The upload itself, for {@link #put} and the retried puts (each call observed once). */
    private StoredObject upload(String key, InputStream in, long size, String contentType) throws Exception {
        MessageDigest sha256 = Digests.sha256();
        CountingInputStream counted = new CountingInputStream(new DigestInputStream(in, sha256));
        ObjectWriteResponse response = client.putObject(PutObjectArgs.builder().bucket(bucket()).object(key).stream(
                        new BufferedInputStream(counted, 64 * 1024), size, config.partSize())
                .contentType(contentType)
                .build());
        return new StoredObject(key, counted.count(), Digests.hex(sha256), unquote(response.etag()));
    }

    /**
     * Creates the object only if no object has the key (S3 {@code If-None-Match: *}): the atomic way
     * to claim a name, e.g. a new version number. Empty if the key was taken.
     */
    public Optional<StoredObject> putIfAbsent(String key, byte[] data, String contentType) {
        return conditionalPut(key, data, contentType, Map.of("If-None-Match", "*"));
    }

    /**
     * Replaces the object only if its ETag is still {@code expectedEtag} (S3 {@code If-Match}): a
     * compare-and-set, so two concurrent writers cannot both win. Empty if it changed meanwhile.
     */
    public Optional<StoredObject> putIfMatch(String key, byte[] data, String contentType, String expectedEtag) {
        return conditionalPut(key, data, contentType, Map.of("If-Match", "\"" + expectedEtag + "\""));
    }

    private Optional<StoredObject> conditionalPut(
            String key, byte[] data, String contentType, Map<String, String> condition) {
        try {
            return Optional.of(retrying("put_conditional", key, () -> {
                ObjectWriteResponse response =
                        client.putObject(PutObjectArgs.builder().bucket(bucket()).object(key).stream(
                                        new ByteArrayInputStream(data), (long) data.length, -1L)
                                .headers(condition)
                                .contentType(contentType)
                                .build());
                return new StoredObject(key, data.length, Digests.of(data), unquote(response.etag()));
            }));
        } catch (ObjectStoreException e) {
            if (e.getCause() instanceof ErrorResponseException r
                    && r.errorResponse() != null
                    && PRECONDITION_CODES.contains(r.errorResponse().code())) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Writes a small object from memory; retried on transient errors. */
    public StoredObject putBytes(String key, byte[] data, String contentType) {
        return retrying("put", key, () -> upload(key, new ByteArrayInputStream(data), data.length, contentType));
    }

    /** Uploads a file (multipart when larger than a part); retried on transient errors. */
    public StoredObject putFile(String key, Path file, String contentType) {
        return retrying("put", key, () -> {
            try (InputStream in = Files.newInputStream(file)) {
                return upload(key, in, Files.size(file), contentType);
            }
        });
    }

    /** Opens the object for streaming; the caller closes the stream. */
    public InputStream get(String key) {
        return retrying(
                "get",
                key,
                () -> client.getObject(
                        GetObjectArgs.builder().bucket(bucket()).object(key).build()));
    }

    /**
     * Opens an object that an upstream system names, possibly in another bucket of the same store;
     * the caller closes the stream.
     */
    public InputStream get(S3Location location) {
        return retrying(
                "get",
                location.toString(),
                () -> client.getObject(GetObjectArgs.builder()
                        .bucket(location.bucket())
                        .object(location.key())
                        .build()));
    }

    /** Opens {@code length} bytes of the object starting at {@code offset}. */
    public InputStream getRange(String key, long offset, long length) {
        return retrying(
                "get",
                key,
                () -> client.getObject(GetObjectArgs.builder()
                        .bucket(bucket())
                        .object(key)
                        .offset(offset)
                        .length(length)
                        .build()));
    }

    /** Reads a small object whole. */
    public byte[] getBytes(String key) {
        return retrying("get", key, () -> {
            try (InputStream in = client.getObject(
                    GetObjectArgs.builder().bucket(bucket()).object(key).build())) {
                return in.readAllBytes();
            }
        });
    }

    /**
     * Downloads the object to {@code target} atomically: into a temporary file beside it, then
     * renamed, so {@code target} is never seen half-written.
     */
    public Path download(String key, Path target) {
        return retrying("download", key, () -> {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path partial = Files.createTempFile(dir, target.getFileName().toString(), ".part");
            try (InputStream in = client.getObject(
                    GetObjectArgs.builder().bucket(bucket()).object(key).build())) {
                Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                return Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
        });
    }

    /** The object's metadata, or empty if there is no such object. */
    public Optional<ObjectInfo> stat(String key) {
        try {
            StatObjectResponse s = retrying(
                    "stat",
                    key,
                    () -> client.statObject(StatObjectArgs.builder()
                            .bucket(bucket())
                            .object(key)
                            .build()));
            return Optional.of(new ObjectInfo(
                    key, s.size(), unquote(s.etag()), s.lastModified().toInstant()));
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        }
    }

    public boolean exists(String key) {
        return stat(key).isPresent();
    }

    /** Every object whose key starts with {@code prefix}, at any depth, in key order. */
    public List<ObjectInfo> list(String prefix) {
        return retrying("list", prefix, () -> {
            List<ObjectInfo> objects = new ArrayList<>();
            for (Result<Item> result : client.listObjects(ListObjectsArgs.builder()
                    .bucket(bucket())
                    .prefix(prefix)
                    .recursive(true)
                    .build())) {
                Item item = result.get();
                objects.add(info(item));
            }
            return objects;
        });
    }

    /**
     * Every object under a prefix that an upstream system names, possibly in another bucket of the
     * same store ({@code location.key()} is the prefix), at any depth, in key order.
     */
    public List<ObjectInfo> list(S3Location location) {
        return retrying("list", location.toString(), () -> {
            List<ObjectInfo> objects = new ArrayList<>();
            for (Result<Item> result : client.listObjects(ListObjectsArgs.builder()
                    .bucket(location.bucket())
                    .prefix(location.key())
                    .recursive(true)
                    .build())) {
                objects.add(info(result.get()));
            }
            return objects;
        });
    }

    /**
     * A page of the objects under {@code prefix}, at any depth, in key order: those whose key sorts
     * after {@code startAfter} (S3 {@code start-after}; null for the first page), at most {@code
     * limit}. Only the page is listed, however many objects follow it.
     */
    public List<ObjectInfo> list(String prefix, String startAfter, int limit) {
        return retrying("list", prefix, () -> {
            List<ObjectInfo> objects = new ArrayList<>();
            for (Result<Item> result : client.listObjects(page(prefix, startAfter, limit, true))) {
                Item item = result.get();
                objects.add(info(item));
                if (objects.size() == limit) {
                    break; // the client would fetch the next page of the listing if asked for more
                }
            }
            return objects;
        });
    }

    /**
     * A page of {@link #listChildren(String)}: the names one level below {@code prefix} whose key
     * sorts after {@code startAfter} (null for the first page), at most {@code limit}.
     */
    public List<String> listChildren(String prefix, String startAfter, int limit) {
        return retrying("list", prefix, () -> {
            List<String> names = new ArrayList<>();
            for (Result<Item> result : client.listObjects(page(prefix, startAfter, limit, false))) {
                String name = result.get().objectName().substring(prefix.length());
                names.add(name.endsWith("/") ? name.substring(0, name.length() - 1) : name);
                if (names.size() == limit) {
                    break;
                }
            }
            return names;
        });
    }

    private ListObjectsArgs page(String prefix, String startAfter, int limit, boolean recursive) {
        if (limit < 1) {
            throw new IllegalArgumentException("a listing page holds at least one key, got limit " + limit);
        }
        ListObjectsArgs.Builder args = ListObjectsArgs.builder()
                .bucket(bucket())
                .prefix(prefix)
                .recursive(recursive)
                .maxKeys(Math.min(limit, 1000)); // S3 answers at most 1000 keys a request
        if (startAfter != null) {
            args.startAfter(startAfter);
        }
        return args.build();
    }

    /**
     * The names one level below {@code prefix} (which ends in '/'): sub-prefixes without their
     * trailing '/', and objects. Like {@code ls}, for catalogues laid out as key paths.
     */
    public List<String> listChildren(String prefix) {
        return retrying("list", prefix, () -> {
            List<String> names = new ArrayList<>();
            for (Result<Item> result : client.listObjects(ListObjectsArgs.builder()
                    .bucket(bucket())
                    .prefix(prefix)
                    .recursive(false)
                    .build())) {
                String name = result.get().objectName().substring(prefix.length());
                names.add(name.endsWith("/") ? name.substring(0, name.length() - 1) : name);
            }
            return names;
        });
    }

    /** Removes the object; removing a missing object is not an error. */
    public void delete(String key) {
        retrying("delete", key, () -> {
            client.removeObject(
                    RemoveObjectArgs.builder().bucket(bucket()).object(key).build());
            return null;
        });
    }

    /** Server-side copy within the bucket. */
    public void copy(String sourceKey, String targetKey) {
        retrying(
                "copy",
                sourceKey + " -> " + targetKey,
                () -> client.copyObject(CopyObjectArgs.builder()
                        .bucket(bucket())
                        .object(targetKey)
                        .source(SourceObject.builder()
                                .bucket(bucket())
                                .object(sourceKey)
                                .build())
                        .build()));
    }

    /** A URL anyone can GET the object with until {@code expiry} passes. */
    public URI presignedGet(String key, Duration expiry) {
        return presigned(Http.Method.GET, key, expiry);
    }

    /** A URL anyone can PUT the object with until {@code expiry} passes. */
    public URI presignedPut(String key, Duration expiry) {
        return presigned(Http.Method.PUT, key, expiry);
    }

    private URI presigned(Http.Method method, String key, Duration expiry) {
        return URI.create(call(
                "presign",
                key,
                () -> client.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                        .method(method)
                        .bucket(bucket())
                        .object(key)
                        .expiry((int) expiry.toSeconds(), TimeUnit.SECONDS)
                        .build())));
    }

    private <T> T retrying(String operation, String key, Callable<T> action) {
        return call(operation, key, () -> retry.call(action));
    }

    private void run(String operation, String key, Callable<Void> action) {
        retrying(operation, key, action);
    }

    /** Runs one operation: translates what the client throws, and tells the observer how it went. */
    private <T> T call(String operation, String key, Callable<T> action) {
        long started = System.nanoTime();
        boolean failed = true;
        try {
            T result = action.call();
            failed = false;
            return result;
        } catch (ObjectStoreException e) {
            failed = !(e instanceof ObjectNotFoundException);
            throw e;
        } catch (ErrorResponseException e) {
            String code = e.errorResponse() == null ? null : e.errorResponse().code();
            failed = code == null || !(NOT_FOUND_CODES.contains(code) || PRECONDITION_CODES.contains(code));
            if ("NoSuchBucket".equals(code)) {
                throw ObjectNotFoundException.noBucket(bucket(), key);
            }
            if (code != null && NOT_FOUND_CODES.contains(code)) {
                // An upstream object may live in another bucket: name the one the store looked in.
                String looked = e.errorResponse().bucketName();
                throw new ObjectNotFoundException(looked == null || looked.isBlank() ? bucket() : looked, key);
            }
            throw new ObjectStoreException(operation, key, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ObjectStoreException(operation, key, e);
        } catch (IOException e) {
            throw new ObjectStoreException(operation, key, e);
        } catch (UncheckedIOException e) {
            throw new ObjectStoreException(operation, key, e.getCause());
        } catch (Exception e) {
            throw new ObjectStoreException(operation, key, e);
        } finally {
            observe(operation, System.nanoTime() - started, failed);
        }
    }

    /** Observing never fails the call it observes. */
    private void observe(String operation, long nanos, boolean failed) {
        try {
            observer.completed(operation, nanos, failed);
        } catch (RuntimeException e) {
            LOG.debugf(e, "object store observer failed on %s", operation);
        }
    }

    /** One entry of a listing, as both listings hand it out. */
    private static ObjectInfo info(Item item) {
        return new ObjectInfo(
                item.objectName(),
                item.size(),
                unquote(item.etag()),
                item.lastModified() == null ? null : item.lastModified().toInstant());
    }

    /** S3 sends ETags quoted; we hand them out bare. */
    private static String unquote(String etag) {
        return etag != null && etag.length() >= 2 && etag.startsWith("\"") && etag.endsWith("\"")
                ? etag.substring(1, etag.length() - 1)
                : etag;
    }

    @Override
    public void close() throws Exception {
        client.close();
    }
}
