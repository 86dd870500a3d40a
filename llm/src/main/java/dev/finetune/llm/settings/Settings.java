package dev.finetune.llm.settings;

import dev.finetune.contracts.RegistryReference;
import dev.finetune.events.Objective;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.objective.DpoLossType;
import dev.finetune.llm.objective.GrpoLossType;
import dev.finetune.llm.objective.KlEstimator;
import dev.finetune.llm.objective.LossType;
import dev.finetune.llm.optim.ScheduleType;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.train.EvalStrategy;
import dev.finetune.llm.train.Method;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every training setting, declared once. The names are the ones HuggingFace transformers ({@code
 * TrainingArguments}), TRL ({@code SFTConfig}, {@code DPOConfig}, {@code ORPOConfig}, {@code KTOConfig}, {@code
 * RewardConfig}, {@code GRPOConfig}, {@code PPOConfig}, {@code ModelConfig}) and
 * bitsandbytes use, and they are the only spelling on every surface: job YAML files, the job API's
 * {@code hyperparameters}, dataset triggers, the {@code TrainingJobRequested} event, {@code finetune
 * --set} and every error message. Each default says in one line why it has its value. Where TRL
 * gives two objectives one name with two meanings ({@code beta}, {@code loss_type}), the setting is
 * still declared once and {@link Setting#forObjective} says what the other objective changes.
 *
 * <p>Adding a setting: declare it here (name, type, default, rule, help), add it to {@link #CATALOG},
 * and read it where it acts with {@code config.setting(Settings.NEW_ONE)}; YAML, JSON, the CLI, the
 * event and the README table ({@code llm settings --markdown}) pick it up from this declaration.
 */
public final class Settings {
    // --- optimisation (transformers' TrainingArguments) ---

    /** 2e-4 for LoRA and QLoRA (the QLoRA paper's and PEFT examples' value), 1e-5 for full fine-tuning. */
    public static final Setting<Double> LEARNING_RATE = Setting.perMethod(
            "learning_rate",
            ValueType.DECIMAL,
            Method::defaultLearningRate,
            "2e-4 for lora and qlora, 1e-5 for full",
            Rule.above(0, 1),
            "peak learning rate after warmup");

    public static final Setting<Double> NUM_TRAIN_EPOCHS = Setting.of(
            "num_train_epochs",
            ValueType.DECIMAL,
            3.0,
            Rule.above(0, 10_000),
            "passes over the training data, may be fractional (transformers' default 3)");

    public static final Setting<Integer> MAX_STEPS = Setting.of(
            "max_steps",
            ValueType.INTEGER,
            -1,
            Rule.of(v -> v == -1 || (v > 0 && v <= 10_000_000), "-1 (train for num_train_epochs) or in [1, 10000000]"),
            "when > 0, the number of optimizer steps, overriding num_train_epochs");

    public static final Setting<Integer> PER_DEVICE_TRAIN_BATCH_SIZE = Setting.of(
            "per_device_train_batch_size",
            ValueType.INTEGER,
            8,
            Rule.count(1, 4096),
            "sequences per micro-batch (transformers' default 8)");

    public static final Setting<Integer> GRADIENT_ACCUMULATION_STEPS = Setting.of(
            "gradient_accumulation_steps",
            ValueType.INTEGER,
            1,
            Rule.count(1, 4096),
            "micro-batches per optimizer step");

    public static final Setting<ScheduleType> LR_SCHEDULER_TYPE = Setting.of(
            "lr_scheduler_type",
            ValueType.named(ScheduleType.class, ScheduleType::configName, ScheduleType::parse),
            ScheduleType.LINEAR,
            Rule.any(),
            "learning-rate shape after a linear warmup (transformers' default linear)");

    public static final Setting<Double> WARMUP_RATIO = Setting.of(
            "warmup_ratio",
            ValueType.DECIMAL,
            0.0,
            Rule.halfOpen(0, 1),
            "fraction of the steps spent warming up, used when warmup_steps is 0");

    public static final Setting<Integer> WARMUP_STEPS = Setting.of(
            "warmup_steps",
            ValueType.INTEGER,
            0,
            Rule.count(0, 10_000_000),
            "steps of linear warmup from 0; overrides warmup_ratio when > 0");

    public static final Setting<Double> WEIGHT_DECAY = Setting.of(
            "weight_decay",
            ValueType.DECIMAL,
            0.0,
            Rule.between(0, 1),
            "AdamW's decoupled weight decay, never on biases and norms (transformers' default 0)");

    public static final Setting<Double> MAX_GRAD_NORM = Setting.of(
            "max_grad_norm",
            ValueType.DECIMAL,
            1.0,
            Rule.between(0, 1_000_000),
            "clip the global gradient norm to this; 0 disables (transformers' default 1.0)");

    public static final Setting<Double> ADAM_BETA1 =
            Setting.of("adam_beta1", ValueType.DECIMAL, 0.9, Rule.halfOpen(0, 1), "AdamW's first-moment decay");

    public static final Setting<Double> ADAM_BETA2 =
            Setting.of("adam_beta2", ValueType.DECIMAL, 0.999, Rule.halfOpen(0, 1), "AdamW's second-moment decay");

    public static final Setting<Double> ADAM_EPSILON =
            Setting.of("adam_epsilon", ValueType.DECIMAL, 1e-8, Rule.above(0, 1), "AdamW's denominator guard");

    public static final Setting<Integer> MAX_SEQ_LENGTH = Setting.of(
            "max_seq_length",
            ValueType.INTEGER,
            1024,
            Rule.count(2, 1_048_576),
            "sequences are cut to this many tokens (the packed row length with packing; TRL's 1024)");

    public static final Setting<Long> SEED = Setting.of(
            "seed",
            ValueType.LONG,
            42L,
            Rule.any(),
            "seeds data order, LoRA initialisation and dropout (transformers' 42)");

    public static final Setting<Integer> SAVE_STEPS = Setting.of(
            "save_steps",
            ValueType.INTEGER,
            500,
            Rule.count(1, 10_000_000),
            "a resumable checkpoint every this many optimizer steps, and always at the end (transformers' 500)");

    public static final Setting<Integer> SAVE_TOTAL_LIMIT = Setting.of(
            "save_total_limit",
            ValueType.INTEGER,
            0,
            Rule.count(0, 1_000_000),
            "keep only the newest this many checkpoints; 0 keeps every one");

    public static final Setting<Boolean> GRADIENT_CHECKPOINTING = Setting.of(
            "gradient_checkpointing",
            ValueType.BOOLEAN,
            false,
            Rule.any(),
            "keep only each decoder layer's input and recompute its activations in backward: less memory for"
                    + " one more forward pass (transformers' default off; always on over an int8 or nf4 base, whose"
                    + " weights are dequantised again in backward)");

    public static final Setting<Boolean> FP16 = Setting.of(
            "fp16",
            ValueType.BOOLEAN,
            false,
            Rule.any(),
            "lora, qlora: the frozen base linears the adapters wrap compute in fp16 (as torch.autocast does a"
                    + " linear), adapters and optimizer state stay fp32, with torch's dynamic loss scaling (scale 2^16,"
                    + " halved and the step skipped on an inf or NaN gradient, doubled after 2000 clean steps);"
                    + " for GPU workers: on this CPU fp16 is no faster than fp32 (transformers' default off)");

    // --- evaluation during training (transformers' TrainingArguments, EarlyStoppingCallback) ---

    public static final Setting<EvalStrategy> EVAL_STRATEGY = Setting.of(
            "eval_strategy",
            ValueType.named(EvalStrategy.class, EvalStrategy::configName, EvalStrategy::parse),
            EvalStrategy.NO,
            Rule.any(),
            "evaluate the validation split during training: no, every eval_steps steps, or at each epoch's end"
                    + " (transformers' default no)");

    public static final Setting<Integer> EVAL_STEPS = Setting.of(
            "eval_steps",
            ValueType.INTEGER,
            0,
            Rule.count(0, 10_000_000),
            "with eval_strategy steps, evaluate every this many optimizer steps; 0 takes save_steps (transformers"
                    + " takes logging_steps, which we do not have: we log every step)");

    public static final Setting<String> METRIC_FOR_BEST_MODEL = Setting.of(
            "metric_for_best_model",
            ValueType.STRING,
            "eval_loss",
            Rule.any(),
            "the evaluation metric that picks the best checkpoint and drives early stopping; eval_ is prefixed"
                    + " when missing, so loss means eval_loss (transformers' default)");

    /** Derived as transformers does when not set: {@link dev.finetune.llm.train.EvalArguments#from}. */
    public static final Setting<Boolean> GREATER_IS_BETTER = Setting.perMethod(
            "greater_is_better",
            ValueType.BOOLEAN,
            method -> false,
            "false if metric_for_best_model ends in loss, else true",
            Rule.any(),
            "whether a larger metric_for_best_model is better");

    public static final Setting<Boolean> LOAD_BEST_MODEL_AT_END = Setting.of(
            "load_best_model_at_end",
            ValueType.BOOLEAN,
            false,
            Rule.any(),
            "the result is the best evaluated checkpoint's weights rather than the last step's; needs eval_strategy"
                    + " steps with save_steps a multiple of eval_steps (transformers' default off)");

    public static final Setting<Integer> EARLY_STOPPING_PATIENCE = Setting.of(
            "early_stopping_patience",
            ValueType.INTEGER,
            0,
            Rule.count(0, 1_000_000),
            "stop after this many evaluations in a row that did not improve metric_for_best_model; 0 never stops"
                    + " early (transformers' EarlyStoppingCallback)");

    public static final Setting<Double> EARLY_STOPPING_THRESHOLD = Setting.of(
            "early_stopping_threshold",
            ValueType.DECIMAL,
            0.0,
            Rule.between(0, 1_000_000),
            "an evaluation improves only if it beats the best by more than this (EarlyStoppingCallback's 0)");

    // --- SFT (TRL's SFTConfig) ---

    public static final Setting<Boolean> ASSISTANT_ONLY_LOSS = Setting.of(
            "assistant_only_loss",
            ValueType.BOOLEAN,
            true,
            Rule.any(),
            "SFT: loss on the assistant's tokens only, so the model learns to answer, not to write the user's turns");

    public static final Setting<Boolean> PACKING = Setting.of(
            "packing",
            ValueType.BOOLEAN,
            false,
            Rule.any(),
            "SFT: pack several examples per row of max_seq_length tokens, each attending only to itself (TRL's default off)");

    // --- preference objectives (TRL's DPOConfig, ORPOConfig, KTOConfig) ---

    /** 0.1 for the preference objectives (must be > 0 there), 0.04 for grpo (0 turns its KL term off). */
    public static final Setting<Double> BETA = Setting.of(
                    "beta",
                    ValueType.DECIMAL,
                    0.1,
                    Rule.above(0, 1000),
                    "DPO, KTO: strength of the pull towards the reference model (the DPO paper's and TRL's 0.1); ORPO:"
                            + " weight of the odds-ratio term against the NLL (TRL's 0.1; the ORPO paper's lambda);"
                            + " GRPO: weight of the k3 KL estimate to the reference per token, 0 for none (the"
                            + " DeepSeekMath paper's 0.04, TRL's default until 0.19; TRL's now 0)")
            .forObjective(Objective.GRPO, 0.04, Rule.between(0, 1000));

    public static final Setting<Integer> MAX_PROMPT_LENGTH = Setting.of(
            "max_prompt_length",
            ValueType.INTEGER,
            512,
            Rule.count(1, 1_048_576),
            "DPO, ORPO, KTO, GRPO, PPO: prompts keep their last this many tokens (TRL's 512)");

    /** sigmoid for dpo, dapo for grpo (TRL's defaults); each objective takes only its own losses. */
    public static final Setting<LossType> LOSS_TYPE = Setting.<LossType>of(
                    "loss_type",
                    ValueType.oneOf(
                            Stream.<LossType>concat(Stream.of(DpoLossType.values()), Stream.of(GrpoLossType.values()))
                                    .toList(),
                            LossType::configName),
                    DpoLossType.SIGMOID,
                    Rule.of(v -> v instanceof DpoLossType, "one of sigmoid, robust, hinge, ipo"),
                    "DPO: the loss on the reward margin, as TRL's: sigmoid (the DPO paper's), robust (sigmoid corrected"
                            + " for flipped labels), hinge (SLiC's) or ipo (IPO's, on each completion's mean"
                            + " log-probability per token); GRPO: how token losses are averaged, as TRL's: grpo (per"
                            + " completion, then over completions), bnpo (over each micro-batch's tokens), dr_grpo"
                            + " (over completions x max_completion_length) or dapo (over the step's tokens)")
            .forObjective(
                    Objective.GRPO,
                    GrpoLossType.DAPO,
                    Rule.of(v -> v instanceof GrpoLossType, "one of grpo, bnpo, dr_grpo, dapo"));

    public static final Setting<Double> LABEL_SMOOTHING = Setting.of(
            "label_smoothing",
            ValueType.DECIMAL,
            0.0,
            Rule.halfOpen(0, 0.5),
            "DPO: assumed probability that a pair's preference is flipped, for loss_type sigmoid (conservative"
                    + " DPO) and robust; refused with hinge and ipo, which have no such term (TRL's 0)");

    public static final Setting<Double> DESIRABLE_WEIGHT = Setting.of(
            "desirable_weight",
            ValueType.DECIMAL,
            1.0,
            Rule.above(0, 1000),
            "KTO: weight of each desirable example's loss; with fewer desirable than undesirable examples raise it"
                    + " so that weight x count is 1 to 4/3 times the undesirable side's, as the KTO paper advises"
                    + " (TRL's 1.0)");

    public static final Setting<Double> UNDESIRABLE_WEIGHT = Setting.of(
            "undesirable_weight",
            ValueType.DECIMAL,
            1.0,
            Rule.above(0, 1000),
            "KTO: weight of each undesirable example's loss (TRL's 1.0)");

    public static final Setting<Double> CENTER_REWARDS_COEFFICIENT = Setting.of(
            "center_rewards_coefficient",
            ValueType.DECIMAL,
            0.0,
            Rule.between(0, 100),
            "reward: weight of mean((r_chosen + r_rejected)^2) added to the loss to keep scores centred on zero"
                    + " (TRL's default None: off; Eisenstein et al. 2023 use 0.01)");

    public static final Setting<Boolean> PRECOMPUTE_REF_LOG_PROBS = Setting.of(
            "precompute_ref_log_probs",
            ValueType.BOOLEAN,
            false,
            Rule.any(),
            "DPO, KTO with lora or qlora: score every training (and validation) example with the reference once"
                    + " before step 1 and store the scores with each checkpoint, instead of a reference forward"
                    + " pass on every micro-batch (TRL's default off; full fine-tuning always precomputes)");

    // --- GRPO (TRL's GRPOConfig) ---

    public static final Setting<Integer> NUM_GENERATIONS = Setting.of(
            "num_generations",
            ValueType.INTEGER,
            8,
            Rule.count(2, 4096),
            "GRPO: completions sampled per prompt, the group whose rewards are compared; per_device_train_batch_size"
                    + " counts completions and must be a multiple of it (TRL's 8)");

    public static final Setting<Integer> MAX_COMPLETION_LENGTH = Setting.of(
            "max_completion_length",
            ValueType.INTEGER,
            256,
            Rule.count(1, 1_048_576),
            "GRPO: most tokens generated per completion (TRL's 256)");

    /** 1.0 for grpo (GRPOConfig's), 0.7 for ppo (PPOConfig's). */
    public static final Setting<Double> TEMPERATURE = Setting.of(
                    "temperature",
                    ValueType.DECIMAL,
                    1.0,
                    Rule.above(0, 100),
                    "GRPO and PPO: sampling temperature of the completions, and the log-probabilities of the"
                            + " policy, the old policy and the reference (and GRPO's `entropy`) are of the logits"
                            + " divided by it, as TRL's (TRL's GRPO default 1.0: the policy's own distribution; PPO"
                            + " 0.7)")
            .forObjective(Objective.PPO, 0.7, Rule.above(0, 100));

    public static final Setting<Double> TOP_P = Setting.of(
            "top_p",
            ValueType.DECIMAL,
            1.0,
            Rule.above(0, 1),
            "GRPO: nucleus sampling of the completions, 1 for none (TRL's 1.0)");

    public static final Setting<Integer> TOP_K = Setting.of(
            "top_k",
            ValueType.INTEGER,
            0,
            Rule.count(0, 10_000_000),
            "GRPO: sample among the k most probable tokens, 0 for no limit (TRL's None)");

    public static final Setting<Double> EPSILON = Setting.of(
            "epsilon",
            ValueType.DECIMAL,
            0.2,
            Rule.above(0, 1),
            "GRPO: the probability ratio is clipped to [1 - epsilon, 1 + epsilon_high] (TRL's and PPO's 0.2)");

    public static final Setting<Double> EPSILON_HIGH = Setting.of(
            "epsilon_high",
            ValueType.DECIMAL,
            0.0,
            Rule.between(0, 10),
            "GRPO: the upper clipping bound's epsilon, 0 to use epsilon (TRL's None; DAPO's clip-higher uses 0.28)");

    public static final Setting<Integer> NUM_ITERATIONS = Setting.of(
            "num_iterations",
            ValueType.INTEGER,
            1,
            Rule.count(1, 1024),
            "GRPO: optimizer steps per batch of generated completions (TRL's mu, default 1: the ratio is 1 at each"
                    + " step and only its gradient counts; above 1 the ratio is to the log-probabilities of the"
                    + " policy that generated the batch, and an epoch is that many times as many steps)");

    public static final Setting<Boolean> SCALE_REWARDS = Setting.of(
            "scale_rewards",
            ValueType.BOOLEAN,
            true,
            Rule.any(),
            "GRPO: divide each advantage by its group's reward standard deviation (+ 1e-4); false keeps the"
                    + " differences from the group mean, as Dr. GRPO (TRL's true, i.e. group)");

    public static final Setting<List<String>> REWARD_FUNCS = Setting.of(
            "reward_funcs",
            ValueType.STRINGS,
            List.of(),
            Rule.of(
                    list -> list.stream().allMatch(r -> r != null && !r.isBlank()),
                    "a list of reward functions: exact_match, regex:<pattern>, length:<tokens>, model:<directory>"),
            "GRPO, PPO (required): the rewards of each completion, summed with reward_weights: exact_match (1 if the"
                    + " completion, trimmed, is the prompt's reference), regex:<pattern> (1 if the pattern is found"
                    + " in the completion), length:<tokens> (-|tokens - target| / target), model:<directory> (a trained"
                    + " reward model's score of prompt and completion: HF sequence classifier, or SEQ_CLS adapter on"
                    + " the policy's base; in a service job model:registry:<name>@<version or alias>)");

    public static final Setting<List<Double>> REWARD_WEIGHTS = Setting.of(
            "reward_weights",
            ValueType.DECIMALS,
            List.of(),
            Rule.of(
                    list -> list.stream().allMatch(w -> Double.isFinite(w)),
                    "a list of finite numbers, one per reward function"),
            "GRPO, PPO: the weight of each of reward_funcs in the reward, empty for 1 each (TRL's None)");

    // --- PPO (TRL's PPOConfig; the adaptive KL controller with the names of TRL's older PPOConfig) ---

    public static final Setting<Integer> NUM_PPO_EPOCHS = Setting.of(
            "num_ppo_epochs",
            ValueType.INTEGER,
            4,
            Rule.count(1, 1000),
            "PPO: passes of optimisation over each batch of rollouts, each in num_mini_batches optimizer steps (TRL's 4)");

    public static final Setting<Integer> NUM_MINI_BATCHES = Setting.of(
            "num_mini_batches",
            ValueType.INTEGER,
            1,
            Rule.count(1, 4096),
            "PPO: optimizer steps per pass over a rollout batch; a rollout batch is per_device_train_batch_size x"
                    + " gradient_accumulation_steps x num_mini_batches prompts, one completion each (TRL's 1)");

    public static final Setting<Integer> RESPONSE_LENGTH = Setting.of(
            "response_length",
            ValueType.INTEGER,
            53,
            Rule.count(1, 1_048_576),
            "PPO: most tokens generated per completion (TRL's 53)");

    public static final Setting<Double> KL_COEF = Setting.of(
            "kl_coef",
            ValueType.DECIMAL,
            0.05,
            Rule.between(0, 1000),
            "PPO: weight of the per-token KL penalty to the reference in the reward, 0 for none; the starting value"
                    + " when adap_kl_ctrl is on (TRL's 0.05)");

    public static final Setting<KlEstimator> KL_ESTIMATOR = Setting.of(
            "kl_estimator",
            ValueType.named(KlEstimator.class, KlEstimator::configName, KlEstimator::parse),
            KlEstimator.K1,
            Rule.any(),
            "PPO: the per-token KL estimate, k1 (logp - ref_logp) or k3 ((exp(ref_logp - logp) - 1) - (ref_logp -"
                    + " logp), never negative) (TRL's k1)");

    public static final Setting<Double> CLIPRANGE = Setting.of(
            "cliprange",
            ValueType.DECIMAL,
            0.2,
            Rule.above(0, 1),
            "PPO: the probability ratio is clipped to [1 - cliprange, 1 + cliprange] (TRL's and the PPO paper's 0.2)");

    public static final Setting<Double> CLIPRANGE_VALUE = Setting.of(
            "cliprange_value",
            ValueType.DECIMAL,
            0.2,
            Rule.above(0, 1_000_000),
            "PPO: the new value prediction is clipped to within this of the rollout's (TRL's 0.2)");

    public static final Setting<Double> VF_COEF = Setting.of(
            "vf_coef",
            ValueType.DECIMAL,
            0.1,
            Rule.between(0, 1000),
            "PPO: weight of the value loss in the loss (TRL's 0.1)");

    public static final Setting<Double> GAMMA = Setting.of(
            "gamma",
            ValueType.DECIMAL,
            1.0,
            Rule.between(0, 1),
            "PPO: discount of future rewards in GAE (TRL's 1.0: a completion is one undiscounted episode)");

    public static final Setting<Double> LAM = Setting.of(
            "lam",
            ValueType.DECIMAL,
            0.95,
            Rule.between(0, 1),
            "PPO: GAE's lambda, trading the advantages' bias (0) for variance (1) (TRL's 0.95)");

    public static final Setting<Boolean> ADAP_KL_CTRL = Setting.of(
            "adap_kl_ctrl",
            ValueType.BOOLEAN,
            false,
            Rule.any(),
            "PPO: adapt kl_coef after each rollout batch towards a KL of target (Ziegler et al. 2019; TRL's older"
                    + " PPOConfig, whose default was on; today's TRL has a fixed kl_coef, so off)");

    public static final Setting<Double> TARGET = Setting.of(
            "target",
            ValueType.DECIMAL,
            6.0,
            Rule.above(0, 1_000_000),
            "PPO with adap_kl_ctrl: the KL per completion (summed over its tokens) the controller aims at (TRL's"
                    + " older 6)");

    public static final Setting<Double> HORIZON = Setting.of(
            "horizon",
            ValueType.DECIMAL,
            10_000.0,
            Rule.above(0, 1e12),
            "PPO with adap_kl_ctrl: completions over which kl_coef may change by at most 20% times completions /"
                    + " horizon per rollout batch (TRL's older 10000)");

    // --- adapters (TRL's ModelConfig names for PEFT's LoraConfig) ---

    public static final Setting<Integer> LORA_R = Setting.of(
            "lora_r",
            ValueType.INTEGER,
            8,
            Rule.count(1, 4096),
            "LoRA rank of the update B A (PEFT's default 8: enough for instruction tuning at a few MB)");

    public static final Setting<Double> LORA_ALPHA = Setting.of(
            "lora_alpha",
            ValueType.DECIMAL,
            16.0,
            Rule.above(0, 1_000_000),
            "LoRA scaling numerator, may be fractional as in PEFT: scaling = lora_alpha / lora_r (2 x the default"
                    + " rank, the common recipe)");

    public static final Setting<Double> LORA_DROPOUT = Setting.of(
            "lora_dropout",
            ValueType.DECIMAL,
            0.05,
            Rule.halfOpen(0, 1),
            "dropout on the adapter's input while training (the QLoRA paper's 0.05)");

    public static final Setting<List<String>> LORA_TARGET_MODULES = Setting.of(
            "lora_target_modules",
            ValueType.STRINGS,
            List.of("q_proj", "k_proj", "v_proj", "o_proj"),
            Rule.of(
                    Settings::validTargets,
                    "a non-empty list of module names like q_proj, or " + LoraConfig.ALL_LINEAR + " alone"),
            "linear layers to adapt, matched against the end of each module path, or all-linear"
                    + " (default: the attention projections, as in the LoRA paper)");

    public static final Setting<Boolean> USE_RSLORA = Setting.of(
            "use_rslora",
            ValueType.BOOLEAN,
            false,
            Rule.any(),
            "rank-stabilised LoRA: scaling lora_alpha / sqrt(lora_r) (PEFT's default off)");

    public static final Setting<Boolean> USE_DORA = Setting.of(
            "use_dora",
            ValueType.BOOLEAN,
            false,
            Rule.any(),
            "DoRA: a trainable magnitude per output feature times the direction W + B A, as PEFT's use_dora"
                    + " (PEFT's default off: each forward pass also computes the norms of W + B A)");

    /**
     * Continued training, as PEFT's {@code PeftModel.from_pretrained(model, dir, is_trainable=True)}: the
     * adapter's weights with a fresh optimizer and schedule. Empty (none) trains a new adapter.
     */
    public static final Setting<String> INIT_ADAPTER = Setting.perMethod(
            "init_adapter",
            ValueType.OPTIONAL_STRING,
            method -> "",
            "none (a new adapter)",
            Rule.of(
                    v -> !RegistryReference.isReference(v) || RegistryReference.isValid(v),
                    "a PEFT adapter directory or " + RegistryReference.SYNTAX),
            "lora, qlora: start from this PEFT adapter's weights (a directory; in training-service jobs "
                    + RegistryReference.SYNTAX + ", pinned to the version when the job is accepted) with a fresh"
                    + " optimizer and schedule; its adapter_config.json decides lora_r, lora_alpha,"
                    + " lora_target_modules, use_rslora, use_dora (a job setting that disagrees is refused) and,"
                    + " unless set, lora_dropout");

    /** nf4 for qlora (the method's meaning), fp32 otherwise: the exact model unless a job asks for less memory. */
    public static final Setting<BaseDType> BASE_DTYPE = Setting.perMethod(
            "base_dtype",
            ValueType.named(BaseDType.class, BaseDType::configName, BaseDType::parse),
            method -> method == Method.QLORA ? BaseDType.NF4 : BaseDType.FP32,
            "nf4 for qlora, fp32 for lora and full",
            Rule.any(),
            "how the frozen base's decoder linears are stored: fp32 (exact), int8 (per-row absmax, bitsandbytes'"
                    + " load_in_8bit storage without outlier decomposition) or nf4 (QLoRA's); lora may use any,"
                    + " qlora is nf4, full needs fp32; under int8 and nf4 the frozen token embedding (a tied LM head"
                    + " with it) is stored as int8 rows, norms and an untied LM head stay fp32");

    public static final Setting<Boolean> BNB_4BIT_USE_DOUBLE_QUANT = Setting.of(
            "bnb_4bit_use_double_quant",
            ValueType.BOOLEAN,
            true,
            Rule.any(),
            "qlora: also quantise the NF4 block scales to 8 bits (~4.127 instead of 4.5 bits a weight; the QLoRA paper's)");

    /** The engine's settings, in the order help and documents list them. */
    public static final SettingsCatalog CATALOG = SettingsCatalog.of(List.of(
            LEARNING_RATE,
            NUM_TRAIN_EPOCHS,
            MAX_STEPS,
            PER_DEVICE_TRAIN_BATCH_SIZE,
            GRADIENT_ACCUMULATION_STEPS,
            LR_SCHEDULER_TYPE,
            WARMUP_RATIO,
            WARMUP_STEPS,
            WEIGHT_DECAY,
            MAX_GRAD_NORM,
            ADAM_BETA1,
            ADAM_BETA2,
            ADAM_EPSILON,
            MAX_SEQ_LENGTH,
            SEED,
            SAVE_STEPS,
            SAVE_TOTAL_LIMIT,
            GRADIENT_CHECKPOINTING,
            FP16,
            EVAL_STRATEGY,
            EVAL_STEPS,
            METRIC_FOR_BEST_MODEL,
            GREATER_IS_BETTER,
            LOAD_BEST_MODEL_AT_END,
            EARLY_STOPPING_PATIENCE,
            EARLY_STOPPING_THRESHOLD,
            ASSISTANT_ONLY_LOSS,
            PACKING,
            BETA,
            MAX_PROMPT_LENGTH,
            LOSS_TYPE,
            LABEL_SMOOTHING,
            DESIRABLE_WEIGHT,
            UNDESIRABLE_WEIGHT,
            PRECOMPUTE_REF_LOG_PROBS,
            CENTER_REWARDS_COEFFICIENT,
            NUM_GENERATIONS,
            MAX_COMPLETION_LENGTH,
            TEMPERATURE,
            TOP_P,
            TOP_K,
            EPSILON,
            EPSILON_HIGH,
            NUM_ITERATIONS,
            SCALE_REWARDS,
            REWARD_FUNCS,
            REWARD_WEIGHTS,
            NUM_PPO_EPOCHS,
            NUM_MINI_BATCHES,
            RESPONSE_LENGTH,
            KL_COEF,
            KL_ESTIMATOR,
            CLIPRANGE,
            CLIPRANGE_VALUE,
            VF_COEF,
            GAMMA,
            LAM,
            ADAP_KL_CTRL,
            TARGET,
            HORIZON,
            LORA_R,
            LORA_ALPHA,
            LORA_DROPOUT,
            LORA_TARGET_MODULES,
            USE_RSLORA,
            USE_DORA,
            INIT_ADAPTER,
            BASE_DTYPE,
            BNB_4BIT_USE_DOUBLE_QUANT));

    private Settings() {}

    private static boolean validTargets(List<String> targets) {
        if (targets.isEmpty() || (targets.contains(LoraConfig.ALL_LINEAR) && targets.size() > 1)) {
            return false;
        }
        return targets.stream()
                .allMatch(t -> t != null && !t.isBlank() && !t.startsWith(".") && !t.endsWith(".") && !t.contains(" "));
    }
}
