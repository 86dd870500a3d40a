package dev.finetune.llm.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.Collection;

/**
 * Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_}: the L2 norm of all
 * gradients taken together, and if it exceeds the maximum, every gradient scaled by
 * {@code max / (norm + 1e-6)}, so the direction of the update is kept. (DJL's {@code optClipGrad}
 * clamps each element instead, which changes the direction.) Run outside the gradient collector.
 */
public final class GradientClipping {
    /** torch's guard against dividing by a zero norm. */
    private static final double EPSILON = 1e-6;

    private GradientClipping() {}

    /**
     * The global L2 norm of the gradients of {@code parameters}, summed in double precision. Costs
     * one engine-to-Java copy per parameter (a sync point).
     */
    @SuppressWarnings("try")
    public static double globalNorm(Collection<NDArray> parameters) {
        double sumOfSquares = 0;
        try (NDScope ignored = new NDScope()) {
            for (NDArray parameter : parameters) {
                sumOfSquares += parameter.getGradient().square().sum().getFloat();
            }
        }
        return Math.sqrt(sumOfSquares);
    }

    /**
     * Scales the gradients in place so their global norm is at most {@code maxNorm}.
     *
     * @param maxNorm the largest allowed norm; 0 or less disables clipping (the norm is still measured)
     * @return the global norm before clipping, as transformers reports it
     */
    @SuppressWarnings("try")
    public static double clip(Collection<NDArray> parameters, double maxNorm) {
        double norm = globalNorm(parameters);
        clip(parameters, norm, maxNorm);
        return norm;
    }

    /**
     * Scales the gradients in place so their global norm, already measured as {@code norm} (by
     * {@link #globalNorm}), is at most {@code maxNorm}; for a caller that reads the norm first.
     */
    @SuppressWarnings("try")
    public static void clip(Collection<NDArray> parameters, double norm, double maxNorm) {
        double coefficient = maxNorm / (norm + EPSILON);
        if (maxNorm > 0 && coefficient < 1) {
            try (NDScope ignored = new NDScope()) {
                for (NDArray parameter : parameters) {
                    parameter.getGradient().muli((float) coefficient);
                }
            }
        }
    }
}
