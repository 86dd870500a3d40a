package dev.finetune.registry.alias;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * An alias, {@code registry/<model>/_aliases/<alias>.json}: where it points and every move it ever
 * made. Pointer and history are one object, replaced only by a compare-and-set on its ETag, so a
 * move and its record can never disagree and two concurrent moves cannot both build on the same state.
 *
 * @param model the registered model
 * @param alias the alias name
 * @param version the version it points at, or null once removed
 * @param revision the number of moves so far (the last history entry's revision)
 * @param history every move, oldest first
 */
public record AliasRecord(String model, String alias, Long version, long revision, List<Move> history) {

    /**
     * One move.
     *
     * @param revision 1 for the first move, then one more per move
     * @param from the version before, or null if the alias pointed nowhere
     * @param to the version after, or null if the alias was removed
     * @param actor who moved it: the authenticated principal, or {@code pipeline} for automatic promotion
     * @param at when
     * @param reason why, if given (e.g. {@code automatic promotion on registration})
     */
    public record Move(long revision, Long from, Long to, String actor, Instant at, String reason) {}

    /** The record after one more move to {@code to}. */
    static AliasRecord moved(AliasRecord previous, String model, String alias, Long to, String actor, String reason) {
        long revision = previous == null ? 1 : previous.revision() + 1;
        Long from = previous == null ? null : previous.version();
        List<Move> history = new ArrayList<>(previous == null ? List.of() : previous.history());
        history.add(new Move(revision, from, to, actor, Instant.now(), reason));
        return new AliasRecord(model, alias, to, revision, List.copyOf(history));
    }
}
