package dev.finetune.llm.objective;

/**
 * A value of the {@code loss_type} setting: TRL gives DPO and GRPO one name for two sets of losses,
 * so the setting holds either, and each objective's rule says which it takes.
 */
public sealed interface LossType permits DpoLossType, GrpoLossType {
    /** The name in configs ({@code sigmoid}, {@code dapo}). */
    String configName();
}
