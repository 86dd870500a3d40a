package dev.finetune.storage;

import java.time.Instant;

/**
 * An object's metadata as listed or stat'ed.
 *
 * @param key the object key
 * @param size its size in bytes
 * @param etag the store's entity tag without quotes, usable for conditional requests
 * @param lastModified when it was last written
 */
public record ObjectInfo(String key, long size, String etag, Instant lastModified) {}
