package dev.finetune.registry.catalog;

/**
 * {@code registry/_jobs/<job>.json}: the version a job became. Created with If-None-Match, so a job
 * never makes two versions, however often or in whatever order its events arrive.
 */
public record JobRef(String model, long version) {}
