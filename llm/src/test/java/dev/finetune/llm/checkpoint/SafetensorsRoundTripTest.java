package dev.finetune.llm.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    private static float[] randomFloats(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian() * 3;
        }
        return values;
    }

    @Test
    void tensorsWrittenInEachFloatDtypeReadBackAsFp32() throws IOException {
        float[] values = randomFloats(6 * 5, 1);
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(
                file,
                List.of(
                        SafetensorsWriter.floats("f32", new long[] {6, 5}, values, DType.F32),
                        SafetensorsWriter.floats("f16", new long[] {6, 5}, values, DType.F16),
                        SafetensorsWriter.floats("bf16", new long[] {30}, values, DType.BF16)),
                Map.of("format", "pt"));

        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertThat(reader.names()).containsExactly("f32", "f16", "bf16");
            assertThat(reader.metadata()).containsEntry("format", "pt");
            assertThat(reader.info("f16").dtype()).isEqualTo(DType.F16);
            assertThat(reader.info("f16").shape()).containsExactly(6, 5);
            assertThat(reader.readFloats("f32")).containsExactly(values);
            float[] half = reader.readFloats("f16");
            float[] brain = reader.readFloats("bf16");
            for (int i = 0; i < values.length; i++) {
                assertThat(half[i]).isCloseTo(values[i], within(Math.abs(values[i]) * 0x1p-11f));
                assertThat(brain[i]).isCloseTo(values[i], within(Math.abs(values[i]) * 0x1p-8f));
                assertThat(brain[i]).isEqualTo(FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(values[i])));
            }
        }
        ByteBuffer length = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(length.getLong() % 8)
                .as("header padded so tensors are 8-byte aligned")
                .isZero();
    }

    @Test
    void ndArrayHasTheHeaderShapeAndTheValues() throws IOException {
        float[] values = randomFloats(24, 2);
        Path file = dir.resolve("w.safetensors");
        SafetensorsWriter.write(
                file, List.of(SafetensorsWriter.floats("w", new long[] {2, 3, 4}, values, DType.BF16)), Map.of());

        try (SafetensorsReader reader = SafetensorsReader.open(file);
                NDManager manager = NDManager.newBaseManager()) {
            NDArray array = reader.read("w", manager);
            assertThat(array.getShape().getShape()).containsExactly(2, 3, 4);
            assertThat(array.toFloatArray()).containsExactly(reader.readFloats("w"));
        }
    }

    @Test
    void tensorsSpanningSeveralChunksAndBlocksAreReadIntact() throws IOException {
        float[] a = randomFloats(7, 3);
        float[] b = randomFloats(12 * 5, 4);
        Path file = dir.resolve("segments.safetensors");
        SafetensorsWriter.write(
                file,
                List.of(
                        SafetensorsWriter.floats("a", new long[] {7}, a, DType.F16), // 14 bytes: b starts unaligned
                        SafetensorsWriter.floats("b", new long[] {12, 5}, b, DType.F32)),
                Map.of());

        // 24-byte conversion chunks read a and b in pieces; 64-byte blocks build b from 4 row blocks
        // (3 rows of 20 bytes each) written into the one array.
        try (SafetensorsReader small = SafetensorsReader.open(file, 24, 64);
                SafetensorsReader whole = SafetensorsReader.open(file);
                NDManager manager = NDManager.newBaseManager()) {
            assertThat(small.info("b").begin()).isEqualTo(14);
            assertThat(small.readFloats("b")).containsExactly(b);
            float[] range = new float[19]; // elements 23..41: crosses chunks and rows
            small.readFloats("b", 23, range, 2, 17);
            assertThat(Arrays.copyOfRange(range, 2, 19)).containsExactly(Arrays.copyOfRange(b, 23, 40));
            assertThat(small.readFloats("a")).containsExactly(whole.readFloats("a"));
            NDArray blocks = small.read("b", manager);
            assertThat(blocks.getShape().getShape()).containsExactly(12, 5);
            assertThat(blocks.toFloatArray()).containsExactly(b);
        }
    }

    /** A sparse file: the 2 GiB filler is never written, so the test costs no disk and little time. */
    @Test
    void fileOverTwoGibibytesIsReadPastTheTwoGibibyteMark() throws IOException {
        long filler = (1L << 31) - 16; // bytes
        String header = "{\"filler\":{\"dtype\":\"F32\",\"shape\":[" + filler / 4 + "],\"data_offsets\":[0," + filler
                + "]},\"straddle\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[" + filler + "," + (filler + 32)
                + "]},\"tail\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[" + (filler + 32) + ","
                + (filler + 40) + "]}}";
        Path file = RawSafetensors.write(dir.resolve("big.safetensors"), header, new byte[0]);
        long dataStart = Files.size(file);
        float[] straddle = randomFloats(8, 5);
        float[] tail = {1.5f, -2f, 0.25f, 3e38f};
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(dataStart + filler);
            raf.write(RawSafetensors.floats(straddle));
            ByteBuffer bf16 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : tail) {
                bf16.putShort(FloatFormats.floatToBf16(v));
            }
            raf.write(bf16.array());
        }
        assertThat(Files.size(file)).isGreaterThan(1L << 31);

        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertThat(reader.readFloats("straddle")).containsExactly(straddle); // crosses the 2 GiB mark
            float[] readTail = reader.readFloats("tail");
            for (int i = 0; i < tail.length; i++) {
                assertThat(readTail[i]).isEqualTo(FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(tail[i])));
            }
        }
    }

    @Test
    void writingReplacesAnExistingFileWhole() throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafetensorsWriter.write(
                file, List.of(SafetensorsWriter.floats("old", new long[] {1}, new float[] {1}, DType.F32)), Map.of());
        SafetensorsWriter.write(
                file,
                List.of(SafetensorsWriter.floats("new", new long[] {2}, new float[] {2, 3}, DType.F32)),
                Map.of());

        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertThat(reader.names()).containsExactly("new");
            assertThat(reader.readFloats("new")).containsExactly(2, 3);
        }
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(file); // no temporary left behind
        }
    }
}
