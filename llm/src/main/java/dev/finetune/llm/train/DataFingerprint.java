package dev.finetune.llm.train;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 over the tokenized training items, recorded in checkpoints: a run resumes only on exactly
 * the data it was trained on (another tokenizer, file or packing gives another fingerprint).
 */
final class DataFingerprint {
    private final MessageDigest digest;

    DataFingerprint() {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    DataFingerprint add(long[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(8 * values.length + 8).putLong(values.length);
        for (long value : values) {
            buffer.putLong(value);
        }
        digest.update(buffer.array());
        return this;
    }

    DataFingerprint add(boolean[] values) {
        byte[] bytes = new byte[values.length + 1];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) (values[i] ? 1 : 0);
        }
        bytes[values.length] = 2; // separator
        digest.update(bytes);
        return this;
    }

    DataFingerprint add(String text) {
        return add(text.chars().asLongStream().toArray());
    }

    String hex() {
        return HexFormat.of().formatHex(digest.digest());
    }
}
