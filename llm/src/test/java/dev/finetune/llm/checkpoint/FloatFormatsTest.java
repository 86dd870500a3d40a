package dev.finetune.llm.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.testing.ParityFixture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Java 16-bit conversions agree bit for bit with PyTorch's. */
class FloatFormatsTest {

    /** The -bf16 fixtures hold PyTorch's rounding of the fp32 fixtures' weights. */
    @Test
    void bf16NarrowingRoundsLikePyTorch() throws IOException {
        int checked = 0;
        for (String model : new String[] {"llama", "llama2", "mistral", "qwen2", "qwen3"}) {
            try (SafetensorsReader fp32 =
                            SafetensorsReader.open(ParityFixture.resource("/parity/" + model + "/model.safetensors"));
                    SafetensorsReader bf16 = SafetensorsReader.open(
                            ParityFixture.resource("/parity/" + model + "-bf16/model.safetensors"))) {
                for (String name : fp32.names()) {
                    assertThat(bf16.info(name).dtype()).isEqualTo(DType.BF16);
                    float[] full = fp32.readFloats(name);
                    float[] rounded = bf16.readFloats(name);
                    for (int i = 0; i < full.length; i++) {
                        assertThat(FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(full[i])))
                                .as("%s[%d] = %s", name, i, full[i])
                                .isEqualTo(rounded[i]);
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(100_000);
    }

    @Test
    void halfConversionsAgreeWithTheEngineOnEveryBitPattern() {
        try (NDManager manager = NDManager.newBaseManager()) {
            ByteBuffer all = ByteBuffer.allocate(2 * 65536).order(ByteOrder.nativeOrder());
            for (int h = 0; h < 65536; h++) {
                all.putShort((short) h);
            }
            all.flip();
            float[] engine = manager.create(all, new Shape(65536), DataType.FLOAT16)
                    .toType(DataType.FLOAT32, false)
                    .toFloatArray();
            for (int h = 0; h < 65536; h++) {
                float mine = FloatFormats.halfToFloat((short) h);
                assertThat(Float.floatToIntBits(mine)).as("half 0x%04x", h).isEqualTo(Float.floatToIntBits(engine[h]));
            }

            float[] samples = halfEdgeCasesAndRandomFloats();
            NDArray narrowed = manager.create(samples).toType(DataType.FLOAT16, false);
            ByteBuffer engineHalves = ByteBuffer.wrap(narrowed.toByteArray()).order(ByteOrder.nativeOrder());
            for (float sample : samples) {
                short expected = engineHalves.getShort();
                short actual = FloatFormats.floatToHalf(sample);
                if (Float.isNaN(sample)) {
                    assertThat(Float.isNaN(FloatFormats.halfToFloat(actual))).isTrue();
                } else {
                    assertThat(actual)
                            .as("float %s (0x%08x)", sample, Float.floatToIntBits(sample))
                            .isEqualTo(expected);
                }
            }
        }
    }

    private static float[] halfEdgeCasesAndRandomFloats() {
        Random random = new Random(7);
        float[] samples = new float[20_000];
        float[] edges = {
            0f,
            -0f,
            1f,
            -1f,
            65504f,
            65519f,
            65520f,
            1e6f,
            -1e6f,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            Float.NaN,
            0x1p-14f,
            0x1p-24f,
            0x1p-25f,
            0x1.8p-25f,
            0x1p-26f,
            0x1.ffcp-15f,
            1.0009765625f,
            1.00048828125f,
            1.000732421875f,
            1.001220703125f,
            0x1.0p-15f * 1.5f,
            2049f,
            2051f
        };
        System.arraycopy(edges, 0, samples, 0, edges.length);
        for (int i = edges.length; i < samples.length; i++) {
            // magnitudes from 2^-30 to 2^17 cover zero, subnormal, normal and overflow ranges
            samples[i] = (float)
                    (Math.scalb(1.0 + random.nextDouble(), random.nextInt(48) - 30) * (random.nextBoolean() ? 1 : -1));
        }
        return samples;
    }
}
