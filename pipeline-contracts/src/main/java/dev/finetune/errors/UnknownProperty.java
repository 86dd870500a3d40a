package dev.finetune.errors;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Describes a JSON property that its target type does not have, for a person to fix: where it is
 * (a dotted path such as {@code hyperparameters.learning_rat}) and which known name is closest to
 * it, so a misspelling says what was meant instead of being dropped in silence.
 *
 * @param field the dotted path of the unknown property
 * @param name the unknown property's own name
 * @param suggestion the closest known property, if one is close enough to be a likely misspelling
 * @param known the properties the type has, sorted
 */
public record UnknownProperty(String field, String name, Optional<String> suggestion, List<String> known) {

    /** Reads what Jackson knows about the unknown property. */
    public static UnknownProperty of(UnrecognizedPropertyException e) {
        List<String> known = e.getKnownPropertyIds() == null
                ? List.of()
                : e.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList();
        String name = e.getPropertyName();
        return new UnknownProperty(path(e), name, closest(name, known), known);
    }

    /** "unknown field 'x'; did you mean 'y'? (known fields: ...)" */
    public String describe() {
        StringBuilder s = new StringBuilder("unknown field '").append(field).append('\'');
        suggestion.ifPresent(m -> s.append("; did you mean '").append(m).append("'?"));
        if (!known.isEmpty()) {
            s.append(" (known fields: ").append(String.join(", ", known)).append(')');
        }
        return s.toString();
    }

    /**
     * The dotted path of the property an exception is about: {@code a.b[2].c}; empty for the root.
     */
    public static String path(JsonMappingException e) {
        StringBuilder s = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!s.isEmpty()) {
                    s.append('.');
                }
                s.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                s.append('[').append(ref.getIndex()).append(']');
            }
        }
        return s.toString();
    }

    /**
     * The known name closest to {@code name} by edit distance (case-insensitive, '_' and '-'
     * ignored), if it is within a third of the longer name's length: near enough to be a typo.
     */
    public static Optional<String> closest(String name, Collection<String> known) {
        if (name == null) {
            return Optional.empty();
        }
        String wanted = normalize(name);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int d = levenshtein(wanted, normalize(candidate));
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        int allowed = Math.max(2, Math.max(wanted.length(), normalize(best).length()) / 3);
        return bestDistance <= allowed ? Optional.of(best) : Optional.empty();
    }

    private static String normalize(String s) {
        return s.toLowerCase(java.util.Locale.ROOT).replace("_", "").replace("-", "");
    }

    /** Edit distance: insertions, deletions and substitutions, one each. */
    static int levenshtein(String a, String b) {
        Objects.requireNonNull(a);
        Objects.requireNonNull(b);
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
