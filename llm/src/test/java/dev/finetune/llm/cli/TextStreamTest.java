package dev.finetune.llm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextStreamTest {
    @TempDir
    Path dir;

    @Test
    void multiByteCharacterIsReleasedOnlyOnceAllItsBytesArrived() throws IOException {
        TinyTokenizerWriter.write(dir);
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            int[] ids = tokenizer.encode("a€b", false); // '€' is three bytes, so three byte-level tokens
            assertThat(ids).hasSize(5);
            TextStream stream = new TextStream(tokenizer);

            List<String> pieces = new ArrayList<>();
            for (int id : ids) {
                pieces.add(stream.append(id));
            }

            assertThat(pieces).containsExactly("a", "", "", "€", "b");
            assertThat(stream.finish()).isEmpty();
        }
    }

    @Test
    void specialTokensAreNotShownAndAnIncompleteEndIsFlushedByFinish() throws IOException {
        TinyTokenizerWriter.Written written = TinyTokenizerWriter.write(dir);
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            int[] euro = tokenizer.encode("€", false);
            int imEnd = written.vocabSize() - 1;
            TextStream stream = new TextStream(tokenizer);

            assertThat(stream.append(tokenizer.encode("Hello", false)[0])).isEqualTo("Hello");
            assertThat(stream.append(imEnd)).isEmpty();
            assertThat(stream.append(euro[0])).isEmpty();
            assertThat(stream.finish()).isEqualTo("\uFFFD");
        }
    }
}
