package dev.finetune.llm.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.testing.ParityFixture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;

/**
 * The tensors of src/test/resources/nf4/nf4.safetensors, written by
 * src/test/python/make_nf4_fixtures.py. Read byte by byte here, since the checkpoint reader only
 * reads float weights and this file also holds U8 and I8 codes.
 */
record Nf4Fixture(JsonNode header, ByteBuffer data) {

    static Nf4Fixture load() throws IOException {
        byte[] bytes = Files.readAllBytes(ParityFixture.resource("/nf4/nf4.safetensors"));
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) buffer.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, headerLength, StandardCharsets.UTF_8));
        ByteBuffer data = ByteBuffer.wrap(bytes, 8 + headerLength, bytes.length - 8 - headerLength)
                .slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        return new Nf4Fixture(header, data);
    }

    private ByteBuffer bytesOf(String name, String dtype) {
        JsonNode info = header.get(name);
        if (info == null || !info.get("dtype").asText().equals(dtype)) {
            throw new IllegalStateException("fixture has no " + dtype + " tensor " + name);
        }
        int begin = info.get("data_offsets").get(0).asInt();
        int end = info.get("data_offsets").get(1).asInt();
        return data.slice(begin, end - begin).order(ByteOrder.LITTLE_ENDIAN);
    }

    long[] shape(String name) {
        JsonNode shape = header.get(name).get("shape");
        long[] dims = new long[shape.size()];
        Arrays.setAll(dims, i -> shape.get(i).asLong());
        return dims;
    }

    float[] floats(String name) {
        ByteBuffer bytes = bytesOf(name, "F32");
        float[] values = new float[bytes.remaining() / 4];
        bytes.asFloatBuffer().get(values);
        return values;
    }

    /** U8 tensor values 0..255. */
    int[] unsignedBytes(String name) {
        ByteBuffer bytes = bytesOf(name, "U8");
        int[] values = new int[bytes.remaining()];
        Arrays.setAll(values, i -> Byte.toUnsignedInt(bytes.get(i)));
        return values;
    }

    byte[] signedBytes(String name) {
        ByteBuffer bytes = bytesOf(name, "I8");
        byte[] values = new byte[bytes.remaining()];
        bytes.get(values);
        return values;
    }

    double metadata(String key) {
        return Double.parseDouble(header.get("__metadata__").get(key).asText());
    }
}
