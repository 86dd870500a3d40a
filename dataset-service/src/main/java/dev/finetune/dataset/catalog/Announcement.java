package dev.finetune.dataset.catalog;

import java.time.Instant;

/**
 * The record that a prepared version's outcome was published: {@code
 * datasets/prepared/<dataset>/<version>/announced.json}, written once the broker acknowledged it.
 *
 * @param eventId the CloudEvents id it was published with
 * @param type its CloudEvents type
 * @param announcedAt when the broker acknowledged it
 */
public record Announcement(String eventId, String type, Instant announcedAt) {}
