package dev.finetune.events;

/**
 * A version of a registered model, {@code registry/<model>/<version>/}: e.g. the adapter a job's
 * continued training started from (its {@code init_adapter}).
 *
 * @param model the registered model name
 * @param version the version number, from 1
 */
public record RegisteredVersion(String model, long version) {}
