package dev.finetune.registry.alias;

import dev.finetune.events.RegistryAction;
import dev.finetune.registry.RegistryConflictException;
import dev.finetune.registry.RegistryEvents;
import dev.finetune.registry.RegistryNotFoundException;
import dev.finetune.registry.RegistrySettings;
import dev.finetune.registry.catalog.RegistryCatalog;
import dev.finetune.registry.catalog.VersionManifest;
import dev.finetune.registry.catalog.VersionState;
import dev.finetune.registry.metrics.RegistryMetrics;
import dev.finetune.registry.promotion.GateDecision;
import dev.finetune.registry.promotion.PromotionGate;
import dev.finetune.registry.promotion.PromotionPolicies;
import dev.finetune.registry.promotion.PromotionPolicy;
import dev.finetune.registry.promotion.PromotionRefusedException;
import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.RegistryKeys;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.jboss.logging.Logger;

/**
 * Moves aliases atomically: read the alias with its ETag, check the caller's expectation and the
 * model's promotion rule against what it points at now, write the moved record with If-Match on
 * that ETag. If another move won in between, the write fails and the move is decided again on the
 * new state (with a short random pause), so every move is recorded exactly once, in order, by
 * whoever made it, and the pointer always equals the last recorded move.
 */
@ApplicationScoped
public class AliasService {
    private static final Logger LOG = Logger.getLogger(AliasService.class);
    /** The actor of moves the service makes by itself. */
    public static final String PIPELINE = "pipeline";

    private final JsonObjects json;
    private final RegistryCatalog catalog;
    private final PromotionPolicies policies;
    private final RegistryEvents events;
    private final RegistryMetrics metrics;
    private final int attempts;

    AliasService(
            JsonObjects json,
            RegistryCatalog catalog,
            PromotionPolicies policies,
            RegistryEvents events,
            RegistryMetrics metrics,
            RegistrySettings settings) {
        this.json = json;
        this.catalog = catalog;
        this.policies = policies;
        this.events = events;
        this.metrics = metrics;
        this.attempts = settings.aliasAttempts();
    }

    public Optional<AliasRecord> get(String model, String alias) {
        return json.read(RegistryKeys.alias(model, alias), AliasRecord.class);
    }

    /** The model's aliases that point at a version. */
    public List<AliasRecord> list(String model) {
        List<AliasRecord> aliases = new ArrayList<>();
        for (String file : json.children(RegistryKeys.aliasesPrefix(model))) {
            if (file.endsWith(".json")) {
                json.read(RegistryKeys.aliasesPrefix(model) + file, AliasRecord.class)
                        .filter(a -> a.version() != null)
                        .ifPresent(aliases::add);
            }
        }
        return aliases;
    }

    /**
     * Points the alias at {@code version}, if the model's promotion rule allows it.
     *
     * @param expectedVersion null: move whatever it points at; 0: only if it points nowhere; n:
     *     only if it points at n
     * @throws PromotionRefusedException naming the failed rules and their numbers
     * @throws RegistryConflictException if the expectation does not hold
     */
    public AliasRecord set(
            String model, String alias, long version, Long expectedVersion, String actor, String reason) {
        String key = RegistryKeys.alias(model, alias);
        VersionState target = catalog.version(model, version)
                .orElseThrow(() -> new RegistryNotFoundException("model '" + model + "' has no version " + version));
        if (!target.isAvailable()) {
            throw new RegistryConflictException("version " + version + " of '" + model + "' is " + target.status()
                    + (target.problems().isEmpty() ? "" : " (" + String.join("; ", target.problems()) + ")")
                    + ": an alias can only point at an available version");
        }
        PromotionPolicy policy = policies.get(model).orElse(null);
        for (int attempt = 1; attempt <= attempts; attempt++) {
            Optional<JsonObjects.Tagged<AliasRecord>> current = json.readTagged(key, AliasRecord.class);
            AliasRecord previous = current.map(JsonObjects.Tagged::value).orElse(null);
            Long from = previous == null ? null : previous.version();
            checkExpected(model, alias, expectedVersion, from);
            if (Objects.equals(from, version)) {
                return previous; // already there: nothing to move or record
            }
            GateDecision decision = check(policy, alias, target.manifest(), from);
            if (!decision.allowed()) {
                throw new PromotionRefusedException(decision);
            }
            AliasRecord next = AliasRecord.moved(previous, model, alias, version, actor, reason);
            if (write(key, next, current)) {
                metrics.promoted(alias);
                events.publish(
                        model,
                        version,
                        RegistryAction.ALIAS_SET,
                        alias,
                        from,
                        actor,
                        target.manifest().jobId(),
                        alias + ":r" + next.revision());
                LOG.infof("alias %s of %s: %s -> %d by %s", alias, model, from, version, actor);
                return next;
            }
            pause(attempt);
        }
        throw contended(model, alias);
    }

    /** Makes the alias point nowhere (its history is kept). */
    public AliasRecord remove(String model, String alias, Long expectedVersion, String actor) {
        String key = RegistryKeys.alias(model, alias);
        for (int attempt = 1; attempt <= attempts; attempt++) {
            Optional<JsonObjects.Tagged<AliasRecord>> current = json.readTagged(key, AliasRecord.class);
            AliasRecord previous = current.map(JsonObjects.Tagged::value).orElse(null);
            if (previous == null || previous.version() == null) {
                throw new RegistryNotFoundException("model '" + model + "' has no alias '" + alias + "'");
            }
            checkExpected(model, alias, expectedVersion, previous.version());
            AliasRecord next = AliasRecord.moved(previous, model, alias, null, actor, null);
            if (write(key, next, current)) {
                events.publish(
                        model,
                        previous.version(),
                        RegistryAction.ALIAS_REMOVED,
                        alias,
                        previous.version(),
                        actor,
                        catalog.version(model, previous.version())
                                .map(VersionState::manifest)
                                .map(VersionManifest::jobId)
                                .orElse(null),
                        alias + ":r" + next.revision());
                return next;
            }
            pause(attempt);
        }
        throw contended(model, alias);
    }

    /** Whether the alias may move to the version now (a dry run of the promotion rule). */
    public GateDecision check(String model, String alias, long version) {
        RegistryKeys.requireAlias(alias);
        VersionState target = catalog.version(model, version)
                .filter(VersionState::isComplete)
                .orElseThrow(() -> new RegistryNotFoundException("model '" + model + "' has no version " + version));
        Long from = get(model, alias).map(AliasRecord::version).orElse(null);
        return check(policies.get(model).orElse(null), alias, target.manifest(), from);
    }

    /**
     * Applies the model's automatic promotion to a newly registered version, if its policy asks for
     * it. A refusal is logged with its reasons and is not an error.
     *
     * @return whether the alias now points at the version
     */
    public boolean autoPromote(String model, long version) {
        PromotionPolicy policy =
                policies.get(model).filter(PromotionPolicy::autoPromote).orElse(null);
        if (policy == null) {
            return false;
        }
        try {
            set(model, policy.alias(), version, null, PIPELINE, "automatic promotion on registration");
            return true;
        } catch (PromotionRefusedException e) {
            LOG.infof("not promoted automatically: %s", e.getMessage());
            return false;
        }
    }

    private GateDecision check(PromotionPolicy policy, String alias, VersionManifest candidate, Long from) {
        VersionManifest current = from == null
                ? null
                : catalog.version(candidate.model(), from)
                        .map(VersionState::manifest)
                        .orElse(null);
        return PromotionGate.check(policy, alias, candidate, current);
    }

    private boolean write(String key, AliasRecord next, Optional<JsonObjects.Tagged<AliasRecord>> current) {
        return current.isPresent() ? json.replace(key, next, current.get().etag()) : json.create(key, next);
    }

    private static void checkExpected(String model, String alias, Long expected, Long actual) {
        if (expected == null) {
            return;
        }
        Long wanted = expected == 0 ? null : expected;
        if (!Objects.equals(wanted, actual)) {
            throw new RegistryConflictException("alias '" + alias + "' of '" + model + "' points at "
                    + (actual == null ? "no version" : "version " + actual) + ", not the expected "
                    + (wanted == null ? "no version" : "version " + wanted));
        }
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(5, 10 + 20L * attempt));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while moving an alias", e);
        }
    }

    private RegistryConflictException contended(String model, String alias) {
        return new RegistryConflictException("alias '" + alias + "' of '" + model + "' changed " + attempts
                + " times while this move was being made; try again");
    }
}
