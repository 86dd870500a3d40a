package dev.finetune.llm.settings;

import java.util.function.Predicate;

/**
 * What a setting's value must satisfy, with the words an error message uses: {@code
 * "learning_rate must be > 0, got -1"}.
 *
 * @param test true for an allowed value
 * @param text the requirement, read after "must be" ("> 0", "in [0, 1)")
 * @param <T> the value's type
 */
public record Rule<T>(Predicate<T> test, String text) {

    /** Any value of the type. */
    public static <T> Rule<T> any() {
        return new Rule<>(value -> true, "any value");
    }

    /** A finite number strictly above {@code low} and at most {@code high}. */
    public static Rule<Double> above(double low, double high) {
        return new Rule<>(v -> v > low && v <= high, "> " + plain(low) + " and <= " + plain(high));
    }

    /** A finite number at least {@code low} and at most {@code high}. */
    public static Rule<Double> between(double low, double high) {
        return new Rule<>(v -> v >= low && v <= high, "in [" + plain(low) + ", " + plain(high) + "]");
    }

    /** A number in {@code [low, high)}. */
    public static Rule<Double> halfOpen(double low, double high) {
        return new Rule<>(v -> v >= low && v < high, "in [" + plain(low) + ", " + plain(high) + ")");
    }

    /** A whole number in {@code [low, high]}. */
    public static Rule<Integer> count(int low, int high) {
        return new Rule<>(v -> v >= low && v <= high, "in [" + low + ", " + high + "]");
    }

    /** Any other requirement, said in words. */
    public static <T> Rule<T> of(Predicate<T> test, String text) {
        return new Rule<>(test, text);
    }

    private static String plain(double value) {
        return ValueType.describe(value);
    }
}
