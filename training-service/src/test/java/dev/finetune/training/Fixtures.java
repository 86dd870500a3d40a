package dev.finetune.training;

import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.JobState;
import dev.finetune.events.Objective;
import dev.finetune.llm.cli.LlmCli;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.training.job.JobRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.io.file.PathUtils;
import picocli.CommandLine;

/**
 * Real inputs in the object store, as the other services leave them: a tiny base model in
 * HuggingFace layout under models/base/, and prepared datasets in the dataset-service's layout.
 */
public final class Fixtures {
    private Fixtures() {}

    /** Generates a tiny qwen3 model with its tokenizer (llm's init-tiny) and stores it as a base model. */
    static void baseModel(ObjectStore store, String name) throws IOException {
        if (store.exists(ObjectKeys.baseModel(name, "config.json"))) {
            return;
        }
        Path scratch = Files.createTempDirectory("base-");
        try {
            Path dir = scratch.resolve("model");
            int exit = new CommandLine(new LlmCli()).execute("init-tiny", "--type", "qwen3", "--out", dir.toString());
            if (exit != 0) {
                throw new IllegalStateException("init-tiny failed with exit code " + exit);
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : files.toList()) {
                    store.putFile(
                            ObjectKeys.baseModel(name, file.getFileName().toString()),
                            file,
                            "application/octet-stream");
                }
            }
        } finally {
            PathUtils.deleteDirectory(scratch); // the store has it now
        }
    }

    /** The body of {@code POST /api/jobs} for a LoRA SFT job on version 1 of {@code dataset}. */
    static Map<String, Object> loraSftJob(String baseModel, String dataset, Map<String, Object> hyperparameters) {
        return Map.of(
                "baseModel",
                baseModel,
                "dataset",
                Map.of("name", dataset, "version", "1"),
                "method",
                "lora",
                "objective",
                "sft",
                "hyperparameters",
                hyperparameters);
    }

    /** A prepared SFT dataset: 24 short question/answer conversations. */
    /**
     * A LoRA SFT job record of {@code tiny-qwen3} on dataset {@code qa}, version 1, as the service
     * writes it on creation: nothing trained, no worker.
     */
    public static JobRecord jobRecord(
            String id, JobState state, Map<String, Object> hyperparameters, Instant createdAt) {
        return new JobRecord(
                id,
                "tiny-qwen3",
                "qa",
                "1",
                FineTuneMethod.LORA,
                Objective.SFT,
                new Hyperparameters(hyperparameters),
                null,
                null,
                state,
                null,
                0,
                0,
                0,
                null,
                null,
                0,
                false,
                0,
                createdAt,
                null,
                state.isTerminal() ? createdAt : null);
    }

    static void sftDataset(ObjectStore store, String name) {
        sftDataset(store, name, 24);
    }

    /** A prepared SFT dataset of {@code examples} short question/answer conversations. */
    static void sftDataset(ObjectStore store, String name, int examples) {
        prepared(store, name, "sft", additions(0, examples), examples);
        store.putBytes(
                ObjectKeys.preparedDatasetPrefix(name, "1") + "validation.jsonl",
                additions(examples, examples + 6).getBytes(StandardCharsets.UTF_8),
                "application/jsonl");
    }

    /** "What is i plus i?" conversations, one a line, for i in [from, to). */
    private static String additions(int from, int to) {
        StringBuilder lines = new StringBuilder();
        for (int i = from; i < to; i++) {
            lines.append("{\"messages\":[{\"role\":\"user\",\"content\":\"What is ")
                    .append(i)
                    .append(" plus ")
                    .append(i)
                    .append("?\"},{\"role\":\"assistant\",\"content\":\"")
                    .append(2 * i)
                    .append("\"}]}\n");
        }
        return lines.toString();
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
        prepared(store, name, "preference", train.toString(), 16);
    }

    /** A prepared unpaired preference dataset (KTO): prompts with one completion each, labelled. */
    static void unpairedPreferenceDataset(ObjectStore store, String name) {
        StringBuilder train = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            train.append("{\"prompt\":[{\"role\":\"user\",\"content\":\"Say yes to ")
                    .append(i)
                    .append("\"}],\"completion\":[{\"role\":\"assistant\",\"content\":\"")
                    .append(i % 2 == 0 ? "yes" : "no")
                    .append("\"}],\"label\":")
                    .append(i % 2 == 0)
                    .append("}\n");
        }
        prepared(store, name, "unpaired_preference", train.toString(), 16);
    }

    /** A prepared prompt-only dataset (GRPO): prompts with a reference answer. */
    static void promptDataset(ObjectStore store, String name) {
        StringBuilder train = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            train.append("{\"prompt\":[{\"role\":\"user\",\"content\":\"Say yes to ")
                    .append(i)
                    .append("\"}],\"reference\":\"yes\"}\n");
        }
        prepared(store, name, "prompt", train.toString(), 16);
    }

    /** Pre-tokenized rows (input_ids with completion_mask), as dataset-service prepares them. */
    static void tokenizedDataset(ObjectStore store, String name) {
        StringBuilder train = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            train.append("{\"input_ids\":[1,").append(10 + i).append(",2,3],\"completion_mask\":[0,0,1,1]}\n");
        }
        prepared(store, name, "tokenized", train.toString(), 16);
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
        manifest(store, name, "sft", 24, ",\"statsKey\":\"" + prefix + "stats.json\"");
    }

    private static void prepared(ObjectStore store, String name, String kind, String train, int examples) {
        String prefix = ObjectKeys.preparedDatasetPrefix(name, "1");
        store.putBytes(prefix + "train.jsonl", train.getBytes(StandardCharsets.UTF_8), "application/jsonl");
        manifest(store, name, kind, examples, "");
    }

    private static void manifest(ObjectStore store, String name, String kind, int examples, String moreFields) {
        String prefix = ObjectKeys.preparedDatasetPrefix(name, "1");
        store.putBytes(
                prefix + "manifest.json",
                ("{\"status\":\"prepared\",\"datasetId\":\"" + name + "@1\",\"kind\":\"" + kind
                                + "\",\"train\":{\"key\":\"" + prefix + "train.jsonl\",\"examples\":" + examples + "}"
                                + moreFields + "}")
                        .getBytes(StandardCharsets.UTF_8),
                "application/json");
    }
}
