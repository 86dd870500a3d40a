package dev.finetune.eval.metrics;

/**
 * Accumulates next-token predictions on completion (assistant) tokens. With N scored tokens,
 * {@code eval_loss} = -(1/N) sum log p(token), the mean negative log-likelihood in nats, as the
 * training loss; {@code perplexity} = exp(eval_loss); {@code mean_token_accuracy} = the fraction of
 * those tokens that are the model's most probable next token (argmax of the logits).
 */
public final class TokenMetrics {
    private double logProbSum;
    private long tokens;
    private long correct;

    /** One scored token: its log-probability and whether it was the model's top prediction. */
    public void add(double logProb, boolean top) {
        if (!(logProb <= 0)) {
            throw new IllegalArgumentException("a log-probability must be <= 0, got " + logProb);
        }
        logProbSum += logProb;
        tokens++;
        correct += top ? 1 : 0;
    }

    public long tokens() {
        return tokens;
    }

    public double evalLoss() {
        requireTokens();
        return -logProbSum / tokens;
    }

    public double perplexity() {
        return Math.exp(evalLoss());
    }

    public double meanTokenAccuracy() {
        requireTokens();
        return (double) correct / tokens;
    }

    private void requireTokens() {
        if (tokens == 0) {
            throw new IllegalStateException("no completion tokens were scored");
        }
    }
}
