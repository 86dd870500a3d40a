package dev.finetune.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Registered files are used only as the manifest records them, against a real S3 server. */
@ExtendWith(LocalStackExtension.class)
class RegisteredFilesTest {
    private static final byte[] WEIGHTS = "weights of a registered version".getBytes(StandardCharsets.UTF_8);

    private static ObjectStore store;
    private final String key = "registry/test-" + UUID.randomUUID() + "/1/adapter_model.safetensors";

    @BeforeAll
    static void connect(LocalStack localStack) {
        store = TestStores.connect(localStack);
    }

    @AfterAll
    static void close() throws Exception {
        store.close();
    }

    @Test
    void aFileAsRecordedIsDownloadedAndNotFetchedAgain(@TempDir Path dir) throws Exception {
        store.putBytes(key, WEIGHTS, "application/octet-stream");
        RegisteredFiles.Recorded recorded = recorded(WEIGHTS.length, Digests.of(WEIGHTS));
        Path file = dir.resolve("adapter_model.safetensors");

        assertThat(RegisteredFiles.download(store, key, recorded, file)).isEmpty();
        assertThat(file).hasBinaryContent(WEIGHTS);

        store.delete(key); // a second download would fail: the file there is used as it is
        assertThat(RegisteredFiles.download(store, key, recorded, file)).isEmpty();
        assertThat(RegisteredFiles.Recorded.of(file)).isEqualTo(recorded);
    }

    @Test
    void aFileThatIsNotWhatWasRecordedIsDeletedAndWhatWasFoundIsNamed(@TempDir Path dir) throws Exception {
        byte[] changed = WEIGHTS.clone();
        changed[3] ^= 1;
        store.putBytes(key, changed, "application/octet-stream");
        RegisteredFiles.Recorded recorded = recorded(WEIGHTS.length, Digests.of(WEIGHTS));
        Path file = dir.resolve("adapter_model.safetensors");

        Optional<String> found = RegisteredFiles.download(store, key, recorded, file);

        assertThat(found).contains(WEIGHTS.length + " bytes with SHA-256 " + Digests.of(changed));
        assertThat(file).doesNotExist();
        assertThat(RegisteredFiles.Recorded.of(changed)).isNotEqualTo(recorded);
    }

    @Test
    void aStaleFileInTheWayIsReplacedByTheRecordedOne(@TempDir Path dir) throws Exception {
        store.putBytes(key, WEIGHTS, "application/octet-stream");
        Path file = dir.resolve("adapter_model.safetensors");
        Files.writeString(file, "an older download");

        assertThat(RegisteredFiles.download(store, key, recorded(WEIGHTS.length, Digests.of(WEIGHTS)), file))
                .isEmpty();
        assertThat(file).hasBinaryContent(WEIGHTS);
    }

    @Test
    void aFileTheManifestDoesNotRecordMatchesNothing() throws Exception {
        JsonNode manifest = new ObjectMapper().readTree("{\"files\": {}}");

        RegisteredFiles.Recorded missing = RegisteredFiles.Recorded.of(manifest, "adapter_model.safetensors");

        assertThat(missing.describe()).isEqualTo("no bytes with SHA-256 none");
        assertThat(RegisteredFiles.Recorded.of(new byte[0])).isNotEqualTo(missing);
    }

    private static RegisteredFiles.Recorded recorded(long size, String sha256) throws Exception {
        JsonNode manifest = new ObjectMapper()
                .readTree("{\"files\": {\"adapter_model.safetensors\": {\"size\": " + size + ", \"sha256\": \"" + sha256
                        + "\"}}}");
        return RegisteredFiles.Recorded.of(manifest, "adapter_model.safetensors");
    }
}
