package dev.finetune.registry.catalog;

/**
 * What a stored file must be: checked on listing (size) and on every download (SHA-256).
 *
 * @param size bytes
 * @param sha256 lower-case hex SHA-256 of the bytes
 */
public record FileDigest(long size, String sha256) {}
