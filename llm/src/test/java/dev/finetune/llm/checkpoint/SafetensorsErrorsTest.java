package dev.finetune.llm.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way a safetensors file can be wrong ends in an exception naming the file and the tensor. */
class SafetensorsErrorsTest {
    @TempDir
    Path dir;

    private static final String TWO_TENSORS = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}";

    @Test
    void truncatedFileIsReportedWithFileAndTensorName() throws IOException {
        Path file =
                RawSafetensors.write(dir.resolve("cut.safetensors"), TWO_TENSORS, RawSafetensors.floats(1, 2, 3, 4));

        assertThatThrownBy(() -> SafetensorsReader.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("'b'")
                .hasMessageContaining("truncated")
                .satisfies(e -> assertThat(((CheckpointException) e).item()).isEqualTo("b"));
    }

    /** Safetensors data is indexed entirely: bytes after the last tensor mean header and file disagree. */
    @Test
    void bytesPastTheLastTensorAreRefusedWhenTheFileMustBeFullyIndexed() throws IOException {
        byte[] data = Arrays.copyOf(RawSafetensors.floats(1, 2, 3, 4, 5, 6), 24 + 16);
        Path file = RawSafetensors.write(dir.resolve("long.safetensors"), TWO_TENSORS, data);

        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertThatThrownBy(reader::requireFullyIndexed)
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("16 bytes not indexed by any tensor");
        }
        Path exact = RawSafetensors.write(
                dir.resolve("exact.safetensors"), TWO_TENSORS, RawSafetensors.floats(1, 2, 3, 4, 5, 6));
        try (SafetensorsReader reader = SafetensorsReader.open(exact)) {
            reader.requireFullyIndexed();
        }
    }

    @Test
    void fileCutInsideItsHeaderIsReportedWithFileName() throws IOException {
        Path whole = RawSafetensors.write(dir.resolve("whole.safetensors"), TWO_TENSORS, new byte[24]);
        Path file = dir.resolve("cut-header.safetensors");
        Files.write(file, Arrays.copyOf(Files.readAllBytes(whole), 40));

        assertThatThrownBy(() -> SafetensorsReader.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("truncated");
    }

    @Test
    void offsetsThatDisagreeWithTheShapeAreReportedWithTensorName() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        Path file = RawSafetensors.write(dir.resolve("lies.safetensors"), header, RawSafetensors.floats(1, 2));

        assertThatThrownBy(() -> SafetensorsReader.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("'w'")
                .hasMessageContaining("needs 12 bytes");
    }

    @Test
    void overlappingOffsetsAreReportedWithBothTensorNames() throws IOException {
        String header = "{\"first\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"second\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        Path file = RawSafetensors.write(dir.resolve("overlap.safetensors"), header, RawSafetensors.floats(1, 2, 3));

        assertThatThrownBy(() -> SafetensorsReader.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'second'")
                .hasMessageContaining("'first'")
                .hasMessageContaining("overlap");
    }

    @Test
    void offsetsEndingBeforeTheyBeginAreReported() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}";
        Path file = RawSafetensors.write(dir.resolve("backwards.safetensors"), header, RawSafetensors.floats(1, 2));

        assertThatThrownBy(() -> SafetensorsReader.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'w'")
                .hasMessageContaining("end before they begin");
    }

    @Test
    void unknownDtypeIsReportedWithTensorName() throws IOException {
        String header = "{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        Path file = RawSafetensors.write(dir.resolve("dtype.safetensors"), header, RawSafetensors.floats(1, 2));

        assertThatThrownBy(() -> SafetensorsReader.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("'w'")
                .hasMessageContaining("unknown dtype 'Q4_K'");
    }

    @Test
    void integerTensorIsRefusedAsWeights() throws IOException {
        String header = "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}";
        Path file = RawSafetensors.write(dir.resolve("ints.safetensors"), header, new byte[8]);

        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertThat(reader.info("ids").dtype()).isEqualTo(DType.I64);
            assertThatThrownBy(() -> reader.readFloats("ids"))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("'ids'")
                    .hasMessageContaining("I64 cannot be read as weights");
        }
    }

    @Test
    void missingTensorIsReportedWithFileAndTensorName() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("ok.safetensors"), TWO_TENSORS, new byte[24]);

        try (SafetensorsReader reader = SafetensorsReader.open(file);
                NDManager manager = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> reader.read("model.norm.weight", manager))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("'model.norm.weight'")
                    .hasMessageContaining("no such tensor");
        }
    }

    @Test
    void wrongShapeIsReportedWithTensorNameAndBothShapes() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("ok.safetensors"), TWO_TENSORS, new byte[24]);

        try (SafetensorsReader reader = SafetensorsReader.open(file);
                NDManager manager = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> reader.read("b", new long[] {4}, manager))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("'b'")
                    .hasMessageContaining("[2, 2]")
                    .hasMessageContaining("[4]");
        }
    }

    @Test
    void impossibleHeaderLengthIsReportedWithFileName() throws IOException {
        Path file = dir.resolve("garbage.safetensors");
        Files.write(
                file,
                ByteBuffer.allocate(64)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(-5)
                        .array());

        assertThatThrownBy(() -> SafetensorsReader.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("header length -5");
    }

    @Test
    void headerThatIsNotJsonIsReportedWithFileName() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("text.safetensors"), "{\"w\": [oops", new byte[0]);

        assertThatThrownBy(() -> SafetensorsReader.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("not valid JSON");
    }

    @Test
    void negativeShapeIsReportedWithTensorName() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}";
        Path file = RawSafetensors.write(dir.resolve("shape.safetensors"), header, RawSafetensors.floats(1, 2));

        assertThatThrownBy(() -> SafetensorsReader.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'w'")
                .hasMessageContaining("shape");
    }

    @Test
    void tinyFileIsReportedWithFileName() throws IOException {
        Path file = dir.resolve("tiny.safetensors");
        Files.write(file, new byte[] {1, 2, 3});

        assertThatThrownBy(() -> SafetensorsReader.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("fewer than the 8-byte header length");
    }
}
