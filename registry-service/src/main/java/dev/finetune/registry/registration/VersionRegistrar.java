package dev.finetune.registry.registration;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EvaluationCompleted;
import dev.finetune.events.EvaluationStatus;
import dev.finetune.events.RegistryAction;
import dev.finetune.naming.Names;
import dev.finetune.registry.RegistryEvents;
import dev.finetune.registry.alias.AliasService;
import dev.finetune.registry.catalog.JobRef;
import dev.finetune.registry.catalog.Lineage;
import dev.finetune.registry.catalog.Registration;
import dev.finetune.registry.catalog.RegistryCatalog;
import dev.finetune.registry.catalog.VersionManifest;
import dev.finetune.registry.metrics.RegistryMetrics;
import dev.finetune.registry.registration.PendingRegistrations.PendingCheckpoint;
import dev.finetune.registry.registration.PendingRegistrations.PendingEvaluation;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.service.tracing.WorkContext;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Turns a job's final checkpoint plus the evaluation of that step, received in either order, into
 * the next version of its registered model.
 *
 * <p>States of a job: unknown, then pending (under {@code registry/_pending/<job>/}: final
 * checkpoint and/or evaluations seen), then claimed (a version number taken with If-None-Match and
 * the job index {@code registry/_jobs/<job>.json} created with If-None-Match: the job's one
 * version), then complete (manifest written last), then announced ({@code version_registered}
 * published, automatic promotion applied, pending state removed). Every step can be repeated: a
 * redelivered or duplicated event finds the job index and finishes what is missing, or finds the
 * job announced and does nothing. An evaluation with status error does not register: the job stays
 * pending until an evaluation of that step scores it.
 */
@ApplicationScoped
public class VersionRegistrar {
    private static final Logger LOG = Logger.getLogger(VersionRegistrar.class);
    /** Version numbers tried when claiming, past the highest seen, before giving up. */
    private static final int CLAIM_ATTEMPTS = 100;
    /** Events of one job are handled one at a time in this instance (two consumers see the same job). */
    private final Object[] jobLocks = new Object[64];

    private final PendingRegistrations pending;
    private final RegistryCatalog catalog;
    private final JsonObjects json;
    private final ObjectStore store;
    private final CheckpointArtifacts artifacts;
    private final BaseModelFingerprints fingerprints;
    private final VersionWriter writer;
    private final ModelNames names;
    private final RegistryEvents events;
    private final AliasService aliases;
    private final RegistryMetrics metrics;

    VersionRegistrar(
            PendingRegistrations pending,
            RegistryCatalog catalog,
            JsonObjects json,
            ObjectStore store,
            CheckpointArtifacts artifacts,
            BaseModelFingerprints fingerprints,
            VersionWriter writer,
            ModelNames names,
            RegistryEvents events,
            AliasService aliases,
            RegistryMetrics metrics) {
        this.pending = pending;
        this.catalog = catalog;
        this.json = json;
        this.store = store;
        this.artifacts = artifacts;
        this.fingerprints = fingerprints;
        this.writer = writer;
        this.names = names;
        this.events = events;
        this.aliases = aliases;
        this.metrics = metrics;
        for (int i = 0; i < jobLocks.length; i++) {
            jobLocks[i] = new Object();
        }
    }

    /** A checkpoint event: only a job's final one matters. */
    public Optional<VersionManifest> onCheckpoint(CheckpointCreated event, String eventId, String traceId)
            throws IOException {
        if (!event.isFinal()) {
            return Optional.empty();
        }
        String job = Names.requireName("checkpoint jobId", event.jobId());
        names.of(event); // a job whose model name cannot be formed fails now, not after its evaluation
        synchronized (lockOf(job)) {
            if (announced(job)) {
                LOG.infof("job %s is registered already: final checkpoint event %s ignored", job, eventId);
                return Optional.empty();
            }
            pending.recordCheckpoint(event, eventId, traceId);
            return tryRegister(job);
        }
    }

    /** An evaluation event: ad-hoc evaluations (no job) are not registered. */
    public Optional<VersionManifest> onEvaluation(EvaluationCompleted event, String eventId, String traceId)
            throws IOException {
        if (event.jobId() == null) {
            return Optional.empty();
        }
        String job = Names.requireName("evaluation jobId", event.jobId());
        if (event.status() == null) {
            throw new InvalidInputException("status", "evaluation " + event.evaluationId() + " has no status");
        }
        synchronized (lockOf(job)) {
            if (announced(job)) {
                LOG.infof("job %s is registered already: evaluation event %s ignored", job, eventId);
                return Optional.empty();
            }
            pending.recordEvaluation(event, eventId, traceId);
            if (event.status() == EvaluationStatus.ERROR) {
                LOG.warnf(
                        "evaluation %s of job %s step %d failed (%s): the job stays pending until that step is"
                                + " evaluated",
                        event.evaluationId(), job, event.step(), event.error());
            }
            return tryRegister(job);
        }
    }

    private boolean announced(String job) {
        return catalog.jobRef(job).isPresent() && !pending.exists(job);
    }

    /** Registers the job if both halves are known; else leaves it pending. */
    private Optional<VersionManifest> tryRegister(String job) throws IOException {
        PendingCheckpoint checkpoint = pending.checkpoint(job).orElse(null);
        if (checkpoint == null) {
            LOG.infof("job %s: waiting for its final checkpoint", job);
            return Optional.empty();
        }
        long step = checkpoint.event().step();
        PendingEvaluation evaluation = pending.evaluation(job, step).orElse(null);
        if (evaluation == null || evaluation.event().status() == EvaluationStatus.ERROR) {
            LOG.infof("job %s: waiting for a scored evaluation of its final step %d", job, step);
            return Optional.empty();
        }
        JobRef ref = catalog.jobRef(job).orElse(null);
        Optional<VersionManifest> complete = ref == null
                ? Optional.empty()
                : json.read(RegistryKeys.manifest(ref.model(), ref.version()), VersionManifest.class);
        if (complete.isPresent()) { // completed before a crash or by a concurrent consumer: announce only
            announce(job, complete.get());
            return complete;
        }
        VersionManifest manifest;
        // Staged, validated and the base model hashed before a number is claimed: a checkpoint that
        // cannot become a version never leaves an incomplete one behind.
        try (CheckpointArtifacts.Artifacts staged = artifacts.fetch(checkpoint.event())) {
            Lineage.BaseModel baseModel = fingerprints.of(checkpoint.event().baseModel());
            Registration registration = claimed(job, checkpoint, evaluation).orElse(null);
            if (registration == null) {
                return Optional.empty();
            }
            manifest = writer.write(registration, staged, baseModel);
        }
        metrics.versionRegistered(); // complete now; a crash before this point resumes the same write
        announce(job, manifest);
        return Optional.of(manifest);
    }

    /** Publishes the new version, applies automatic promotion and forgets the pending state. */
    private void announce(String job, VersionManifest manifest) {
        try (WorkContext ignored = WorkContext.builder()
                .registryVersion(manifest.model(), manifest.version())
                .open()) {
            announceInContext(job, manifest);
        }
    }

    private void announceInContext(String job, VersionManifest manifest) {
        events.publish(
                manifest.model(),
                manifest.version(),
                RegistryAction.VERSION_REGISTERED,
                null,
                null,
                AliasService.PIPELINE,
                job,
                null);
        aliases.autoPromote(manifest.model(), manifest.version());
        pending.clear(job);
        LOG.infof(
                "job %s registered as %s version %d (evaluation %s)",
                job,
                manifest.model(),
                manifest.version(),
                manifest.evaluationStatus().code());
    }

    /**
     * The job's registration: the one its index names, or a newly claimed version number. Empty if
     * another consumer claimed the job at the same moment (it finishes the registration).
     */
    private Optional<Registration> claimed(String job, PendingCheckpoint checkpoint, PendingEvaluation evaluation) {
        JobRef ref = catalog.jobRef(job).orElse(null);
        if (ref != null) {
            return Optional.of(catalog.registration(ref.model(), ref.version())
                    .orElseThrow(() -> new IllegalStateException("job index " + RegistryKeys.job(job)
                            + " names version " + ref.version() + " of " + ref.model()
                            + ", which has no registration.json")));
        }
        String model = names.of(checkpoint.event());
        Registration registration = claimVersion(model, job, checkpoint, evaluation);
        if (json.create(RegistryKeys.job(job), new JobRef(model, registration.version()))) {
            return Optional.of(registration);
        }
        JobRef winner = catalog.jobRef(job).orElseThrow();
        if (!winner.model().equals(model) || winner.version() != registration.version()) {
            store.delete(RegistryKeys.registration(model, registration.version())); // give the number back
        }
        LOG.infof("job %s was claimed concurrently as %s version %d", job, winner.model(), winner.version());
        return Optional.empty();
    }

    /** Claims the next free number (or reuses this job's claim left by an interrupted attempt). */
    private Registration claimVersion(
            String model, String job, PendingCheckpoint checkpoint, PendingEvaluation evaluation) {
        Map<Long, Boolean> numbers = catalog.versionNumbers(model);
        for (Map.Entry<Long, Boolean> number : numbers.entrySet()) {
            if (!number.getValue()) {
                Optional<Registration> earlier = catalog.registration(model, number.getKey());
                if (earlier.isPresent() && job.equals(earlier.get().jobId())) {
                    return earlier.get();
                }
            }
        }
        long next = numbers.keySet().stream().mapToLong(Long::longValue).max().orElse(0) + 1;
        for (int attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++, next++) {
            Registration registration = new Registration(
                    model,
                    next,
                    job,
                    checkpoint.event(),
                    evaluation.event(),
                    checkpoint.traceId(),
                    evaluation.traceId(),
                    Instant.now());
            if (json.create(RegistryKeys.registration(model, next), registration)) {
                return registration;
            }
        }
        throw new IllegalStateException("could not claim a version number of " + model + " after " + CLAIM_ATTEMPTS
                + " attempts from " + (next - CLAIM_ATTEMPTS));
    }

    private Object lockOf(String job) {
        return jobLocks[Math.floorMod(job.hashCode(), jobLocks.length)];
    }
}
