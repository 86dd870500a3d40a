package dev.finetune.llm.train;

import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Generates the example datasets in {@code examples/data/} from the synthetic tasks the tests learn
 * (run {@code main} from the llm module directory to rewrite them; a test checks they match).
 */
final class ExampleDatasets {
    static final Path EXAMPLES = Path.of("..", "examples");
    static final String SFT_FILE = "data/capitals-sft.jsonl";
    static final String DPO_FILE = "data/case-dpo.jsonl";
    static final String KTO_FILE = "data/case-kto.jsonl";
    /** The capitals conversations as pre-tokenized rows of the tiny tokenizer (the example models'). */
    static final String TOKENIZED_FILE = "data/capitals-tokenized.jsonl";

    private ExampleDatasets() {}

    static String sft() {
        return String.join("\n", CapitalsTask.sftLines()) + "\n";
    }

    static String dpo() {
        List<String> lines = CasePreferenceTask.lines(CasePreferenceTask.training());
        return String.join("\n", lines) + "\n";
    }

    static String kto() {
        List<String> lines = CasePreferenceTask.unpairedLines(CasePreferenceTask.training());
        return String.join("\n", lines) + "\n";
    }

    /**
     * {@link #sft()}'s conversations rendered with the tiny tokenizer's chat template, the assistant
     * turns trained: TRL's input_ids with completion_mask.
     */
    static String tokenized() throws IOException {
        Path work = Files.createTempDirectory("tokenized-example-");
        try {
            Path tokenizer = Files.createDirectories(work.resolve("tokenizer"));
            TinyTokenizerWriter.write(tokenizer);
            Path chat = Files.writeString(work.resolve("chat.jsonl"), sft());
            return String.join("\n", TokenizedTrainingTest.tokenizedLines(tokenizer, chat, false)) + "\n";
        } finally {
            try (var files = Files.walk(work)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    public static void main(String[] args) throws IOException {
        Path root = args.length > 0 ? Path.of(args[0]) : EXAMPLES;
        Files.createDirectories(root.resolve("data"));
        Files.writeString(root.resolve(SFT_FILE), sft());
        Files.writeString(root.resolve(DPO_FILE), dpo());
        Files.writeString(root.resolve(KTO_FILE), kto());
        Files.writeString(root.resolve(TOKENIZED_FILE), tokenized());
    }
}
