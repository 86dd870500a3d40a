package dev.finetune.training;

import dev.finetune.llm.cli.LlmCli;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * Real inputs in the object store, as the other services leave them: a tiny base model in
 * HuggingFace layout under models/base/, and prepared datasets in the dataset-service's layout.
 */
final class Fixtures {
    private Fixtures() {}

    /** Generates a tiny qwen3 model with its tokenizer (llm's init-tiny) and stores it as a base model. */
    static void baseModel(ObjectStore store, String name) throws IOException {
        if (store.exists(ObjectKeys.baseModel(name, "config.json"))) {
            return;
        }
        Path dir = Files.createTempDirectory("base-").resolve("model");
        int exit = new CommandLine(new LlmCli()).execute("init-tiny", "--type", "qwen3", "--out", dir.toString());
        if (exit != 0) {
            throw new IllegalStateException("init-tiny failed with exit code " + exit);
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                store.putFile(
                        ObjectKeys.baseModel(name, file.getFileName().toString()), file, "application/octet-stream");
            }
        }
    }

    /** A prepared SFT dataset: short question/answer conversations. */
    static void sftDataset(ObjectStore store, String name) {
        StringBuilder train = new StringBuilder();
        for (int i = 0; i < 24; i++) {
            train.append("{\"messages\":[{\"role\":\"user\",\"content\":\"What is ")
                    .append(i)
                    .append(" plus ")
                    .append(i)
                    .append("?\"},{\"role\":\"assistant\",\"content\":\"")
                    .append(2 * i)
                    .append("\"}]}\n");
        }
        prepared(store, name, "sft", train.toString());
    }

    /** A prepared preference dataset: prompt, chosen and rejected answers. */
    static void preferenceDataset(ObjectStore store, String name) {
        StringBuilder train = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            train.append("{\"prompt\":[{\"role\":\"user\",\"content\":\"Say yes to ")
                    .append(i)
                    .append("\"}],\"chosen\":[{\"role\":\"assistant\",\"content\":\"yes\"}],")
                    .append("\"rejected\":[{\"role\":\"assistant\",\"content\":\"no\"}]}\n");
        }
        prepared(store, name, "preference", train.toString());
    }

    /** The SFT dataset, with statistics that count {@code trainTokens} tokens in its train split. */
    static void sftDatasetWithStats(ObjectStore store, String name, long trainTokens) {
        sftDataset(store, name);
        String prefix = ObjectKeys.preparedDatasetPrefix(name, "1");
        store.putBytes(
                prefix + "stats.json",
                ("{\"tokenizer\":\"approximate\",\"splits\":{\"train\":{\"examples\":24,\"tokens\":" + trainTokens
                                + "}}}")
                        .getBytes(StandardCharsets.UTF_8),
                "application/json");
        manifest(store, name, "sft", ",\"statsKey\":\"" + prefix + "stats.json\"");
    }

    private static void prepared(ObjectStore store, String name, String kind, String train) {
        String prefix = ObjectKeys.preparedDatasetPrefix(name, "1");
        store.putBytes(prefix + "train.jsonl", train.getBytes(StandardCharsets.UTF_8), "application/jsonl");
        manifest(store, name, kind, "");
    }

    private static void manifest(ObjectStore store, String name, String kind, String moreFields) {
        String prefix = ObjectKeys.preparedDatasetPrefix(name, "1");
        store.putBytes(
                prefix + "manifest.json",
                ("{\"status\":\"prepared\",\"datasetId\":\"" + name + "@1\",\"kind\":\"" + kind
                                + "\",\"train\":{\"key\":\"" + prefix + "train.jsonl\",\"examples\":24}" + moreFields
                                + "}")
                        .getBytes(StandardCharsets.UTF_8),
                "application/json");
    }
}
