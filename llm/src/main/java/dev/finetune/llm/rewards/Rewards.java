package dev.finetune.llm.rewards;

import dev.finetune.events.Objective;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The reward of a job: the weighted sum of its reward functions, as TRL's {@code reward_funcs} and
 * {@code reward_weights} (a missing weight list weighs each function 1). A function is named in the
 * job by a short spec: {@code exact_match}, {@code regex:<pattern>}, {@code length:<target tokens>} or
 * {@code model:<directory>}, a trained reward model ({@link ModelReward}). Parsed rewards check the
 * specs only; {@link #load} loads their reward models, and closing the loaded rewards frees them.
 */
public final class Rewards implements AutoCloseable {
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
     * The rewards a job of {@code objective} (GRPO or PPO, both read reward_funcs) declares.
     *
     * @throws IllegalArgumentException naming the setting, the entry and its value: {@code
     *     reward_funcs[1] "regex:[" is not a valid regular expression: ...}
     */
    public static Rewards parse(Objective objective, List<String> specs, List<Double> weights) {
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("reward_funcs is required with objective " + objective.code()
                    + ": name at least one of exact_match, regex:<pattern>, length:<tokens>, model:<reward model"
                    + " directory>");
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
        if (spec.startsWith(ModelReward.PREFIX)) {
            String location = spec.substring(ModelReward.PREFIX.length()).strip();
            if (location.isEmpty()) {
                throw new IllegalArgumentException(quoted + " names no reward model: use model:<directory>");
            }
            return ModelReward.unloaded(location);
        }
        throw new IllegalArgumentException(quoted + " is not a reward function: use exact_match, regex:<pattern>,"
                + " length:<tokens> or model:<reward model directory>");
    }

    /**
     * These rewards with each reward model loaded from its directory ({@link ModelReward#load}) for a
     * policy on {@code policyModel}; the caller closes them. Rule rewards are shared as they are.
     *
     * @throws IOException naming the reward model's file that cannot be loaded or does not fit the policy
     */
    public Rewards load(Path policyModel) throws IOException {
        List<RewardFunction> loaded = new ArrayList<>();
        try {
            for (RewardFunction function : functions) {
                if (function instanceof ModelReward reward) {
                    loaded.add(reward.with(ModelReward.load(Path.of(reward.location()), policyModel)));
                } else {
                    loaded.add(function);
                }
            }
        } catch (IOException | RuntimeException e) {
            loaded.stream().filter(ModelReward.class::isInstance).forEach(reward -> ((ModelReward) reward).close());
            throw e;
        }
        return new Rewards(loaded, weights);
    }

    /** The locations of the reward models among {@code specs} ({@code model:<location>}), in order. */
    public static List<String> modelLocations(List<String> specs) {
        return specs.stream()
                .filter(spec -> spec.startsWith(ModelReward.PREFIX))
                .map(spec -> spec.substring(ModelReward.PREFIX.length()).strip())
                .toList();
    }

    /** Frees the reward models that {@link #load} loaded; nothing for parsed rewards. */
    @Override
    public void close() {
        for (RewardFunction function : functions) {
            if (function instanceof ModelReward reward) {
                reward.close();
            }
        }
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
