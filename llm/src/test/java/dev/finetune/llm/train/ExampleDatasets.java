package dev.finetune.llm.train;

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

    public static void main(String[] args) throws IOException {
        Path root = args.length > 0 ? Path.of(args[0]) : EXAMPLES;
        Files.createDirectories(root.resolve("data"));
        Files.writeString(root.resolve(SFT_FILE), sft());
        Files.writeString(root.resolve(DPO_FILE), dpo());
        Files.writeString(root.resolve(KTO_FILE), kto());
    }
}
