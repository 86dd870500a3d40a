package dev.finetune.registry.promotion;

/** A promotion that the model's rule refuses; answered 422 with the decision and its numbers. */
public final class PromotionRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient GateDecision decision;

    public PromotionRefusedException(GateDecision decision) {
        super(decision.summary());
        this.decision = decision;
    }

    public GateDecision decision() {
        return decision;
    }
}
