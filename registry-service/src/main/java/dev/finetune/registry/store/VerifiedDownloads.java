package dev.finetune.registry.store;

import dev.finetune.registry.catalog.FileDigest;
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;

/**
 * Reads stored files and checks them against their recorded SHA-256 and size: a file whose bytes
 * are not the recorded ones is never handed on (an {@link IntegrityException} names the file and
 * both hashes).
 */
@ApplicationScoped
public class VerifiedDownloads {
    private final ObjectStore store;

    VerifiedDownloads(ObjectStore store) {
        this.store = store;
    }

    /** Downloads to {@code target}, which exists afterwards only if the bytes were verified. */
    public Path toFile(String key, FileDigest expected, Path target) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        Path partial = Files.createTempFile(target.toAbsolutePath().getParent(), "download", ".part");
        try {
            try (InputStream in = open(key, expected)) {
                Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
            }
            return Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    /** Reads a small file whole and verifies it before returning any of it. */
    public byte[] bytes(String key, FileDigest expected) throws IOException {
        try (InputStream in = open(key, expected)) {
            return in.readAllBytes();
        }
    }

    /**
     * Opens the file for streaming: the check happens when the end is reached, where a mismatch
     * fails the read with an {@link IntegrityException} (a client then sees a broken transfer, never
     * a silently wrong file).
     */
    public InputStream open(String key, FileDigest expected) {
        MessageDigest digest = Digests.sha256();
        InputStream raw = new DigestInputStream(store.get(key), digest);
        return new FilterInputStream(raw) {
            private long count;
            private boolean checked;

            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b < 0) {
                    check();
                } else {
                    count++;
                }
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = super.read(buffer, offset, length);
                if (n < 0) {
                    check();
                } else {
                    count += n;
                }
                return n;
            }

            private void check() {
                if (checked) {
                    return;
                }
                checked = true;
                String actual = Digests.hex(digest);
                if (count != expected.size() || !actual.equals(expected.sha256())) {
                    throw new IntegrityException(key + " does not match its record: " + count + " bytes with SHA-256 "
                            + actual + ", recorded " + expected.size() + " bytes with SHA-256 " + expected.sha256());
                }
            }
        };
    }
}
