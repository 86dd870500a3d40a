package dev.finetune.llm.rewards;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The reward of a job: the weighted sum of its reward functions, as TRL's {@code reward_funcs} and
 * {@code reward_weights} (a missing weight list weighs each function 1). A function is named in the
 * job by a short spec: {@code exact_match}, {@code regex:<pattern>} or {@code length:<target tokens>}.
 * A reward model (scoring {@link Completion#sequence()}) joins through {@link #of} once one exists.
 */
public final class Rewards {
    private final List<RewardFunction> functions;
    private final double[] weights;

    private Rewards(List<RewardFunction> functions, double[] weights) {
        this.functions = List.copyOf(functions);
        this.weights = weights.clone();
    }

    /** Reward functions and their weights, one each. */
    public static Rewards of(List<RewardFunction> functions, double[] weights) {
        if (functions.isEmpty() || functions.size() != weights.length) {
            throw new IllegalArgumentException(
                    functions.size() + " reward functions need as many weights, got " + weights.length);
        }
        return new Rewards(functions, weights);
    }

    /**
     * The rewards a job declares.
     *
     * @throws IllegalArgumentException naming the setting, the entry and its value: {@code
     *     reward_funcs[1] "regex:[" is not a valid regular expression: ...}
     */
    public static Rewards parse(List<String> specs, List<Double> weights) {
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("reward_funcs is required with objective grpo: name at least one of"
                    + " exact_match, regex:<pattern>, length:<tokens>");
        }
        if (!weights.isEmpty() && weights.size() != specs.size()) {
            throw new IllegalArgumentException("reward_weights has " + weights.size() + " weights for " + specs.size()
                    + " reward_funcs: give one weight per function, or none for 1 each");
        }
        List<RewardFunction> functions = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            functions.add(function(specs.get(i), "reward_funcs[" + i + "]"));
        }
        double[] w = new double[specs.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = weights.isEmpty() ? 1 : weights.get(i);
        }
        return new Rewards(functions, w);
    }

    private static RewardFunction function(String spec, String where) {
        String quoted = where + " \"" + spec + "\"";
        if (spec.strip().equals(ExactMatchReward.NAME)) {
            return new ExactMatchReward();
        }
        if (spec.startsWith(RegexReward.PREFIX)) {
            try {
                return new RegexReward(Pattern.compile(spec.substring(RegexReward.PREFIX.length())));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException(quoted + " is not a valid regular expression: " + e.getDescription()
                        + " near index " + e.getIndex());
            }
        }
        if (spec.startsWith(LengthReward.PREFIX)) {
            String target = spec.substring(LengthReward.PREFIX.length()).strip();
            try {
                int tokens = Integer.parseInt(target);
                if (tokens > 0) {
                    return new LengthReward(tokens);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(
                    quoted + " needs a positive whole number of tokens, got \"" + target + "\"");
        }
        throw new IllegalArgumentException(quoted + " is not a reward function: use exact_match, regex:<pattern> or"
                + " length:<tokens> (reward models are not available to reward_funcs yet)");
    }

    /** Whether some function compares with the prompts' references. */
    public boolean needsReference() {
        return functions.stream().anyMatch(RewardFunction::needsReference);
    }

    public List<RewardFunction> functions() {
        return functions;
    }

    /**
     * Each completion's reward and each function's scores.
     *
     * @param total the weighted sum per completion
     * @param perFunction each function's unweighted scores, by name, in declaration order
     */
    public record Scores(double[] total, Map<String, double[]> perFunction) {}

    public Scores score(List<Completion> completions) {
        double[] total = new double[completions.size()];
        Map<String, double[]> perFunction = new LinkedHashMap<>();
        for (int f = 0; f < functions.size(); f++) {
            double[] scores = functions.get(f).scores(completions);
            perFunction.put(functions.get(f).name(), scores);
            for (int i = 0; i < total.length; i++) {
                total[i] += weights[f] * scores[i];
            }
        }
        return new Scores(total, perFunction);
    }
}
