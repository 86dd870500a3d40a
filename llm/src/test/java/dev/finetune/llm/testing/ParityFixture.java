package dev.finetune.llm.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/**
 * A fixture written by src/test/python/make_parity_fixtures.py: a tiny model directory plus the
 * inputs and the logits an independent implementation of HuggingFace's modeling code computed.
 */
public record ParityFixture(
        String name,
        Path directory,
        long[][] inputIds,
        long[][] attentionMask,
        float[] logits,
        float[] invFreq,
        int vocabSize) {

    public static final String[] NAMES = {
        "llama",
        "llama-bf16",
        "llama2",
        "llama2-bf16",
        "mistral",
        "mistral-bf16",
        "qwen2",
        "qwen2-bf16",
        "qwen3",
        "qwen3-bf16"
    };

    public static ParityFixture load(String name) throws IOException {
        Path directory = resource("/parity/" + name);
        JsonNode inputs =
                new ObjectMapper().readTree(directory.resolve("expected.json").toFile());
        long[][] ids = longs(inputs.get("input_ids"));
        long[][] mask = longs(inputs.get("attention_mask"));
        try (SafetensorsReader expected = SafetensorsReader.open(directory.resolve("expected.safetensors"))) {
            long[] shape = expected.info("logits").shape();
            return new ParityFixture(
                    name, directory, ids, mask, expected.readFloats("logits"), expected.readFloats("inv_freq"), (int)
                            shape[2]);
        }
    }

    public static Path resource(String path) {
        URL url = ParityFixture.class.getResource(path);
        if (url == null) {
            throw new IllegalStateException("test resource " + path + " is missing");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Expected logit of batch row b, position t, token v. */
    public float logit(int b, int t, int v) {
        int time = inputIds[0].length;
        return logits[(b * time + t) * vocabSize + v];
    }

    private static long[][] longs(JsonNode rows) {
        long[][] values = new long[rows.size()][];
        for (int i = 0; i < values.length; i++) {
            JsonNode row = rows.get(i);
            values[i] = new long[row.size()];
            for (int j = 0; j < values[i].length; j++) {
                values[i][j] = row.get(j).asLong();
            }
        }
        return values;
    }
}
