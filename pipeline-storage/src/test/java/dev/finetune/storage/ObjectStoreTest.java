package dev.finetune.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalStackExtension.class)
class ObjectStoreTest {
    private static ObjectStore store;
    private static LocalStack stack;
    private final String prefix = "test/" + UUID.randomUUID() + "/";

    @BeforeAll
    static void connect(LocalStack localStack) {
        stack = localStack;
        store = TestStores.connect(localStack);
    }

    @AfterAll
    static void close() throws Exception {
        store.close();
    }

    @Test
    void ensureBucketIsIdempotent() {
        store.ensureBucket();
        store.ensureBucket();
        store.putBytes(prefix + "x", new byte[] {1}, "application/octet-stream");
        assertThat(store.exists(prefix + "x")).isTrue();
    }

    @Test
    void smallObjectRoundTripsWithItsSha256() {
        byte[] data = "{\"instruction\":\"hi\"}\n".getBytes(StandardCharsets.UTF_8);

        StoredObject stored = store.putBytes(prefix + "data.jsonl", data, "application/jsonl");

        assertThat(stored.size()).isEqualTo(data.length);
        assertThat(stored.sha256()).isEqualTo(sha256(data));
        assertThat(store.getBytes(prefix + "data.jsonl")).isEqualTo(data);
        assertThat(store.stat(prefix + "data.jsonl"))
                .hasValueSatisfying(info -> assertThat(info.size()).isEqualTo(data.length));
    }

    @Test
    void streamOfUnknownLengthOver16MiBIsUploadedInPartsAndReadBackIntact() throws Exception {
        byte[] data = new byte[20 * 1024 * 1024 + 123];
        new Random(7).nextBytes(data);

        StoredObject stored;
        try (InputStream in = new java.io.ByteArrayInputStream(data)) {
            stored = store.put(prefix + "big.bin", in, -1, "application/octet-stream");
        }

        assertThat(stored.size()).isEqualTo(data.length);
        assertThat(stored.sha256()).isEqualTo(sha256(data));
        // S3 multipart ETags are "<md5 of part md5s>-<part count>": 16 MiB parts make two.
        assertThat(stored.etag()).endsWith("-2");
        try (InputStream in = store.get(prefix + "big.bin")) {
            assertThat(sha256(in.readAllBytes())).isEqualTo(stored.sha256());
        }
        try (InputStream in = store.getRange(prefix + "big.bin", 17L * 1024 * 1024, 10)) {
            assertThat(in.readAllBytes())
                    .isEqualTo(java.util.Arrays.copyOfRange(data, 17 * 1024 * 1024, 17 * 1024 * 1024 + 10));
        }
    }

    @Test
    void fileUploadAndAtomicDownloadPreserveBytes(@TempDir Path dir) throws IOException {
        Path source = dir.resolve("source.bin");
        byte[] data = new byte[6 * 1024 * 1024];
        new Random(3).nextBytes(data);
        Files.write(source, data);

        store.putFile(prefix + "file.bin", source, "application/octet-stream");
        Path target = store.download(prefix + "file.bin", dir.resolve("out/file.bin"));

        assertThat(Files.readAllBytes(target)).isEqualTo(data);
        try (var files = Files.list(target.getParent())) {
            assertThat(files).containsExactly(target); // no .part file left behind
        }
    }

    @Test
    void listingAPrefixDoesNotMatchSiblingsThatShareItsStart() {
        store.putBytes(prefix + "1/a", new byte[] {1}, "application/octet-stream");
        store.putBytes(prefix + "1/b/c", new byte[] {2}, "application/octet-stream");
        store.putBytes(prefix + "10/a", new byte[] {3}, "application/octet-stream");

        assertThat(store.list(prefix + "1/"))
                .extracting(ObjectInfo::key)
                .containsExactly(prefix + "1/a", prefix + "1/b/c");
    }

    @Test
    void listingChildrenShowsOneLevelLikeADirectory() {
        store.putBytes(prefix + "d/1/a", new byte[] {1}, "application/octet-stream");
        store.putBytes(prefix + "d/2/b", new byte[] {1}, "application/octet-stream");
        store.putBytes(prefix + "d/x.json", new byte[] {1}, "application/json");

        assertThat(store.listChildren(prefix + "d/")).containsExactlyInAnyOrder("1", "2", "x.json");
    }

    @Test
    void aListingPageStartsAfterTheGivenKeyAndHoldsAtMostTheLimit() {
        for (int i = 1; i <= 7; i++) {
            store.putBytes(prefix + "p/" + String.format("%03d", i), new byte[] {1}, "application/octet-stream");
        }

        assertThat(store.list(prefix + "p/", null, 3))
                .extracting(ObjectInfo::key)
                .containsExactly(prefix + "p/001", prefix + "p/002", prefix + "p/003");
        assertThat(store.list(prefix + "p/", prefix + "p/003", 3))
                .extracting(ObjectInfo::key)
                .containsExactly(prefix + "p/004", prefix + "p/005", prefix + "p/006");
        assertThat(store.list(prefix + "p/", prefix + "p/006", 3))
                .extracting(ObjectInfo::key)
                .containsExactly(prefix + "p/007");
    }

    @Test
    void aPageOfChildrenStartsAfterTheGivenKey() {
        for (String child : new String[] {"a", "b", "c", "d"}) {
            store.putBytes(prefix + "c/" + child + "/record.json", new byte[] {1}, "application/json");
            store.putBytes(prefix + "c/" + child + "/more/1.json", new byte[] {1}, "application/json");
        }

        assertThat(store.listChildren(prefix + "c/", null, 2)).containsExactly("a", "b");
        // '0' is the character after '/': every key under c/b/ sorts before c/b0.
        assertThat(store.listChildren(prefix + "c/", prefix + "c/b0", 2)).containsExactly("c", "d");
    }

    @Test
    void missingObjectIsReportedWithItsKeyAndBucket() {
        assertThat(store.stat(prefix + "nope")).isEmpty();
        assertThatThrownBy(() -> store.getBytes(prefix + "nope"))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining(prefix + "nope")
                .hasMessageContaining("pipeline-test");
    }

    @Test
    void putIfAbsentClaimsAKeyOnlyOnce() {
        assertThat(store.putIfAbsent(prefix + "claim", new byte[] {1}, "application/octet-stream"))
                .isPresent();
        assertThat(store.putIfAbsent(prefix + "claim", new byte[] {2}, "application/octet-stream"))
                .isEmpty();
        assertThat(store.getBytes(prefix + "claim")).containsExactly(1);
    }

    @Test
    void putIfMatchIsACompareAndSetOnTheEtag() {
        StoredObject first = store.putBytes(prefix + "cas", new byte[] {1}, "application/octet-stream");
        StoredObject second = store.putIfMatch(prefix + "cas", new byte[] {2}, "application/octet-stream", first.etag())
                .orElseThrow();
        assertThat(store.putIfMatch(prefix + "cas", new byte[] {3}, "application/octet-stream", first.etag()))
                .isEmpty();
        assertThat(store.getBytes(prefix + "cas")).containsExactly(2);
        assertThat(store.stat(prefix + "cas"))
                .hasValueSatisfying(i -> assertThat(i.etag()).isEqualTo(second.etag()));
    }

    @Test
    void deletedObjectIsGoneAndDeletingAgainIsFine() {
        store.putBytes(prefix + "d", new byte[] {1}, "application/octet-stream");
        store.delete(prefix + "d");
        store.delete(prefix + "d");
        assertThat(store.exists(prefix + "d")).isFalse();
    }

    @Test
    void copyDuplicatesAnObjectServerSide() {
        store.putBytes(prefix + "src", "abc".getBytes(StandardCharsets.UTF_8), "text/plain");
        store.copy(prefix + "src", prefix + "dst");
        assertThat(store.getBytes(prefix + "dst"))
                .asString(StandardCharsets.UTF_8)
                .isEqualTo("abc");
    }

    @Test
    void presignedUrlsWorkWithAPlainHttpClient() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        var put = store.presignedPut(prefix + "presigned.txt", Duration.ofMinutes(5));
        HttpResponse<String> putResponse = http.send(
                HttpRequest.newBuilder(put)
                        .PUT(HttpRequest.BodyPublishers.ofString("hello"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(putResponse.statusCode()).isEqualTo(200);

        var get = store.presignedGet(prefix + "presigned.txt", Duration.ofMinutes(5));
        HttpResponse<String> getResponse =
                http.send(HttpRequest.newBuilder(get).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(getResponse.statusCode()).isEqualTo(200);
        assertThat(getResponse.body()).isEqualTo("hello");
    }

    @Test
    void wrongCredentialsFailAtOnceWithTheStoresReason() throws Exception {
        try (ObjectStore wrong = new ObjectStore(
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), "not-the-secret", "pipeline-test"))) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> wrong.getBytes(prefix + "x"))
                    .isInstanceOf(ObjectStoreException.class)
                    .hasMessageContaining(prefix + "x")
                    .hasMessageContaining("SignatureDoesNotMatch");
            // Not retried: the default backoff (200 ms, doubling) would take over a second for 4 attempts.
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(1000));
        }
    }

    @Test
    void unreachableStoreIsRetriedThenReportedWithTheKey() throws Exception {
        ObjectStoreConfig config = new ObjectStoreConfig(
                java.net.URI.create("http://127.0.0.1:1"),
                "a",
                "b",
                "pipeline-test",
                "us-east-1",
                ObjectStoreConfig.DEFAULT_PART_SIZE,
                3,
                Duration.ofMillis(100));
        try (ObjectStore down = new ObjectStore(config)) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> down.getBytes("some/key"))
                    .isInstanceOf(ObjectStoreException.class)
                    .hasMessageContaining("some/key");
            // Two pauses (100 ms + 200 ms) before the third and last attempt.
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        }
    }

    @Test
    void everyCallIsObservedOnceWithAnsweredNoesNotCountedAsFailures() throws Exception {
        List<String> calls = new CopyOnWriteArrayList<>();
        ObjectStoreObserver observer = (operation, nanos, failed) -> {
            assertThat(nanos).isPositive();
            calls.add(operation + (failed ? " failed" : ""));
        };
        ObjectStoreConfig config =
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), "pipeline-test");
        try (ObjectStore observed = new ObjectStore(config, observer)) {
            observed.putBytes(prefix + "a", new byte[] {1}, "application/octet-stream");
            assertThat(observed.putIfAbsent(prefix + "a", new byte[] {2}, "application/octet-stream"))
                    .isEmpty();
            assertThat(observed.stat(prefix + "missing")).isEmpty();
        }
        ObjectStoreConfig wrongSecret =
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), "not-the-secret", "pipeline-test");
        try (ObjectStore wrong = new ObjectStore(wrongSecret, observer)) {
            assertThatThrownBy(() -> wrong.getBytes(prefix + "a")).isInstanceOf(ObjectStoreException.class);
        }

        assertThat(calls).containsExactly("put", "put_conditional", "stat", "get failed");
    }

    @Test
    void anObserverThatThrowsDoesNotFailTheCall() throws Exception {
        ObjectStoreConfig config =
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), "pipeline-test");
        try (ObjectStore observed = new ObjectStore(config, (operation, nanos, failed) -> {
            throw new IllegalStateException("broken metrics");
        })) {
            observed.putBytes(prefix + "b", new byte[] {1}, "application/octet-stream");
            assertThat(observed.exists(prefix + "b")).isTrue();
        }
    }

    @Test
    void configNeverPrintsItsCredentials() {
        ObjectStoreConfig config = ObjectStoreConfig.of("http://127.0.0.1:9000", "AKIAEXAMPLE", "s3cr3t-value", "b-1");
        assertThat(config.toString()).doesNotContain("AKIAEXAMPLE").doesNotContain("s3cr3t-value");
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
