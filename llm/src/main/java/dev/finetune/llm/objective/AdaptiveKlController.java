package dev.finetune.llm.objective;

/**
 * The KL coefficient of PPO's reward, adapted towards a target KL (Ziegler et al. 2019, "Fine-Tuning
 * Language Models from Human Preferences", section 2.2), as TRL's older {@code AdaptiveKLController}
 * (settings {@code adap_kl_ctrl}, {@code target}, {@code horizon}; {@code kl_coef} starts it). After
 * each rollout batch of n completions whose KL to the reference (summed over a completion's tokens,
 * averaged over completions) is {@code kl}:
 *
 * <pre>
 * error   = clip(kl / target - 1, -0.2, 0.2)
 * kl_coef = kl_coef (1 + error n / horizon)
 * </pre>
 *
 * A fixed controller ({@code adap_kl_ctrl} false) keeps kl_coef. Its value is a checkpointed state.
 */
public final class AdaptiveKlController {
    private final boolean adaptive;
    private final double target;
    private final double horizon;
    private double value;

    /**
     * @param initial kl_coef, >= 0
     * @param adaptive false: kl_coef stays as it is
     * @param target the KL aimed at, > 0
     * @param horizon completions over which kl_coef may change by up to 20%, > 0
     */
    public AdaptiveKlController(double initial, boolean adaptive, double target, double horizon) {
        if (!(initial >= 0) || !(target > 0) || !(horizon > 0)) {
            throw new IllegalArgumentException(
                    "kl_coef must be >= 0, target and horizon > 0, got " + initial + ", " + target + ", " + horizon);
        }
        this.value = initial;
        this.adaptive = adaptive;
        this.target = target;
        this.horizon = horizon;
    }

    /** The current kl_coef. */
    public double value() {
        return value;
    }

    /** Sets the coefficient a checkpoint recorded. */
    public void restore(double restored) {
        value = restored;
    }

    /** Updates the coefficient after a rollout batch of {@code completions} whose mean KL was {@code kl}. */
    public void update(double kl, int completions) {
        if (!adaptive) {
            return;
        }
        double error = Math.max(-0.2, Math.min(0.2, kl / target - 1));
        value *= 1 + error * completions / horizon;
    }
}
