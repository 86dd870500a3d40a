package dev.finetune.llm.cli;

import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.quant.BaseDType;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Flag values that are more than a number or a path; each rejection names the value and what is allowed. */
final class Converters {
    private Converters() {}

    /** A HuggingFace model_type this module can build. */
    static final class ModelTypeConverter implements ITypeConverter<ModelType> {
        @Override
        public ModelType convert(String value) {
            return ModelType.fromHfName(value)
                    .orElseThrow(() -> new TypeConversionException(
                            "'" + value + "' is not a supported model type (" + ModelType.supportedNames() + ")"));
        }
    }

    /** The stored weight type: f32 or bf16 (models always compute in fp32). */
    static final class WeightTypeConverter implements ITypeConverter<DType> {
        @Override
        public DType convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "f32", "fp32", "float32" -> DType.F32;
                case "bf16", "bfloat16" -> DType.BF16;
                default -> throw new TypeConversionException("'" + value + "' is not a weight type (f32, bf16)");
            };
        }
    }

    /** A frozen-base storage: fp32, int8 or nf4. */
    static final class BaseDTypeConverter implements ITypeConverter<BaseDType> {
        @Override
        public BaseDType convert(String value) {
            try {
                return BaseDType.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not a base dtype (fp32, int8, nf4)");
            }
        }
    }

    /** A parameter count: 20M, 1.5B, 500K or a plain number. */
    static final class ParameterCountConverter implements ITypeConverter<Long> {
        private static final Pattern COUNT = Pattern.compile("(\\d+(?:\\.\\d+)?)([kKmMbB]?)");

        @Override
        public Long convert(String value) {
            Matcher m = COUNT.matcher(value.trim());
            if (!m.matches()) {
                throw new TypeConversionException(
                        "'" + value + "' is not a parameter count (e.g. 20M, 500K, 1.5B, 123456)");
            }
            long unit =
                    switch (m.group(2).toUpperCase(Locale.ROOT)) {
                        case "K" -> 1_000L;
                        case "M" -> 1_000_000L;
                        case "B" -> 1_000_000_000L;
                        default -> 1L;
                    };
            long count = new BigDecimal(m.group(1))
                    .multiply(BigDecimal.valueOf(unit))
                    .longValue();
            if (count < 1_000 || count > 1_000_000_000L) {
                throw new TypeConversionException(
                        "'" + value + "' is outside the sizes init-tiny makes (1K to 1B parameters)");
            }
            return count;
        }
    }
}
