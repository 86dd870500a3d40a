package dev.finetune.storage;

/**
 * What a write stored.
 *
 * @param key the object key
 * @param size the number of bytes stored
 * @param sha256 the lower-case hex SHA-256 of those bytes, computed while they were sent
 * @param etag the store's entity tag (for multipart uploads it ends in {@code -<parts>})
 */
public record StoredObject(String key, long size, String sha256, String etag) {}
