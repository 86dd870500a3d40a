package dev.finetune.registry.catalog;

import java.time.Instant;

/** {@code registry/<model>/_archived/<version>.json}: the version is kept but hidden from default listings. */
public record ArchiveMarker(String archivedBy, Instant archivedAt) {}
