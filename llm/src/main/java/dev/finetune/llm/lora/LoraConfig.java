package dev.finetune.llm.lora;

import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.BaseStorage;
import java.util.List;
import java.util.Objects;

/**
 * How LoRA (and QLoRA) adapters are attached to a model. Every field has a default ({@link
 * #defaults()}); change one with the {@code with...} methods. Values are validated when the record
 * is built, and a bad value is named: {@code "lora.r must be a positive integer, got 0"}.
 *
 * @param r rank of the update {@code B A}. Default 8: PEFT's default, enough for instruction tuning
 *     of small models at a few MB per adapter.
 * @param alpha numerator of the scaling, any positive number (PEFT accepts a fractional one, e.g.
 *     12.5). Default 16 (= 2 r): the common recipe, so the update is scaled by 2 at the default rank.
 * @param dropout probability of zeroing an input feature of the adapter path while training. Default
 *     0.05: the QLoRA paper's value for models up to 13B.
 * @param targetModules names of the linear layers to adapt, matched against the end of each module
 *     path ({@code q_proj}, {@code mlp.gate_proj}), or {@value #ALL_LINEAR} for every linear of the
 *     decoder layers (never {@code lm_head}). Default q/k/v/o projections: attention only, as in the
 *     original LoRA paper.
 * @param useRslora rank-stabilised LoRA: scaling {@code alpha / sqrt(r)} instead of {@code alpha / r}.
 *     Default false: PEFT's default, so adapters load elsewhere with the same scaling.
 * @param bias which biases train; only {@value #BIAS_NONE} is supported. Default "none": biases stay
 *     frozen, as in PEFT's default.
 * @param baseDtype how every decoder-layer linear of the frozen base is stored (adapted or not): fp32,
 *     int8 or nf4 (QLoRA). Default fp32: the exact model.
 * @param doubleQuantization with an nf4 base, also quantise the per-block scales to 8 bits (~4.127
 *     instead of 4.5 bits per base parameter). Default true: the QLoRA paper's setting.
 * @param useDora DoRA (weight-decomposed LoRA): a trainable magnitude per output feature scales the
 *     direction {@code W + scaling B A}, as PEFT's {@code use_dora} (see {@link LoraLinear}). Default
 *     false: PEFT's default; DoRA costs a [O, I] weight norm per adapted linear per forward pass.
 */
public record LoraConfig(
        int r,
        double alpha,
        double dropout,
        List<String> targetModules,
        boolean useRslora,
        String bias,
        BaseDType baseDtype,
        boolean doubleQuantization,
        boolean useDora) {

    /** The {@code target_modules} value that selects every linear layer of the decoder layers. */
    public static final String ALL_LINEAR = "all-linear";
    /** The only supported {@code bias} mode: no bias is trained. */
    public static final String BIAS_NONE = "none";

    private static final LoraConfig DEFAULTS = new LoraConfig(
            8,
            16,
            0.05,
            List.of("q_proj", "k_proj", "v_proj", "o_proj"),
            false,
            BIAS_NONE,
            BaseDType.FP32,
            true,
            false);

    public LoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("lora.r must be a positive integer, got " + r);
        }
        if (!(alpha > 0 && Double.isFinite(alpha))) {
            throw new IllegalArgumentException("lora.alpha must be a positive number, got " + alphaAsWritten(alpha));
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("lora.dropout must be in [0, 1), got " + dropout);
        }
        if (targetModules == null || targetModules.isEmpty()) {
            throw new IllegalArgumentException(
                    "lora.target_modules must name at least one module, got " + targetModules);
        }
        for (String target : targetModules) {
            if (target == null || target.isBlank() || target.startsWith(".") || target.endsWith(".")) {
                throw new IllegalArgumentException(
                        "lora.target_modules entries must be module names like \"q_proj\", got \"" + target + "\"");
            }
        }
        if (targetModules.contains(ALL_LINEAR) && targetModules.size() > 1) {
            throw new IllegalArgumentException("lora.target_modules \"" + ALL_LINEAR
                    + "\" selects every linear and cannot be combined with names, got " + targetModules);
        }
        targetModules = List.copyOf(targetModules);
        Objects.requireNonNull(baseDtype, "lora.base_dtype");
        if (!BIAS_NONE.equals(bias)) {
            throw new IllegalArgumentException(
                    "lora.bias must be \"" + BIAS_NONE + "\" (training biases is not supported), got \"" + bias + "\"");
        }
    }

    public static LoraConfig defaults() {
        return DEFAULTS;
    }

    /** The factor applied to {@code B A x}: {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA. */
    public double scaling() {
        return useRslora ? alpha / Math.sqrt(r) : alpha / r;
    }

    /**
     * {@code alpha} as PEFT's adapter_config.json holds it: an integer when it is whole ({@code 16}),
     * else the fraction ({@code 12.5}).
     */
    public Number alphaAsWritten() {
        return alphaAsWritten(alpha);
    }

    private static Number alphaAsWritten(double value) {
        return value == Math.rint(value) && Math.abs(value) <= Integer.MAX_VALUE ? (Number) (int) value : value;
    }

    public LoraConfig withR(int value) {
        return new LoraConfig(
                value, alpha, dropout, targetModules, useRslora, bias, baseDtype, doubleQuantization, useDora);
    }

    public LoraConfig withAlpha(double value) {
        return new LoraConfig(
                r, value, dropout, targetModules, useRslora, bias, baseDtype, doubleQuantization, useDora);
    }

    public LoraConfig withDropout(double value) {
        return new LoraConfig(r, alpha, value, targetModules, useRslora, bias, baseDtype, doubleQuantization, useDora);
    }

    public LoraConfig withTargetModules(List<String> value) {
        return new LoraConfig(r, alpha, dropout, value, useRslora, bias, baseDtype, doubleQuantization, useDora);
    }

    public LoraConfig withTargetModules(String... value) {
        return withTargetModules(List.of(value));
    }

    public LoraConfig withUseRslora(boolean value) {
        return new LoraConfig(r, alpha, dropout, targetModules, value, bias, baseDtype, doubleQuantization, useDora);
    }

    public LoraConfig withBias(String value) {
        return new LoraConfig(
                r, alpha, dropout, targetModules, useRslora, value, baseDtype, doubleQuantization, useDora);
    }

    public LoraConfig withBaseDtype(BaseDType value) {
        return new LoraConfig(r, alpha, dropout, targetModules, useRslora, bias, value, doubleQuantization, useDora);
    }

    /** QLoRA when true (an nf4 base), an fp32 base when false: shorthand for {@link #withBaseDtype}. */
    public LoraConfig withQuantizeBase(boolean value) {
        return withBaseDtype(value ? BaseDType.NF4 : BaseDType.FP32);
    }

    /** Whether the frozen base is stored quantised (int8 or nf4). */
    public boolean quantizeBase() {
        return baseDtype != BaseDType.FP32;
    }

    /** How the frozen base's linears are stored: the dtype, and for nf4 the double quantisation. */
    public BaseStorage baseStorage() {
        return new BaseStorage(baseDtype, doubleQuantization);
    }

    public LoraConfig withDoubleQuantization(boolean value) {
        return new LoraConfig(r, alpha, dropout, targetModules, useRslora, bias, baseDtype, value, useDora);
    }

    public LoraConfig withUseDora(boolean value) {
        return new LoraConfig(r, alpha, dropout, targetModules, useRslora, bias, baseDtype, doubleQuantization, value);
    }
}
