package dev.finetune.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.events.Objective;
import dev.finetune.llm.cli.LlmCli;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Engines;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.Recipe;
import dev.finetune.llm.train.Recipes;
import dev.finetune.llm.train.SftRecipe;
import dev.finetune.llm.train.TrainConfig;
import dev.finetune.llm.train.TrainResult;
import dev.finetune.llm.train.TrainingListener;
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * Real inputs as the other services leave them: a tiny base model under models/base/, a prepared
 * dataset with train/validation/test splits, and adapters, one genuinely trained on the train split
 * (llm's SFT recipe) and one fresh (B = 0: exactly the base model).
 */
final class Fixtures {
    static final String BASE = "tiny-qwen3";
    static final String DATASET = "doubling";
    /** The same questions as KTO's labelled completions: the right answer desirable, a refusal not. */
    static final String LABELLED_DATASET = "doubling-labelled";

    private static Path baseDir;
    private static Path trained;
    private static Path fresh;

    private Fixtures() {}

    /**
     * Where the files of {@link #prepare} are, once made: a system property, because a test profile
     * restarts Quarkus and loads this class afresh, and making the files again would load the
     * tokenizer's native library in a second class loader, which the JVM refuses.
     */
    private static final String PREPARED_ROOT = "finetune.eval.fixtures.root";

    private static final String PREPARED_TRAINED = "finetune.eval.fixtures.trained";

    private static final String PREPARED_REWARD = "finetune.eval.fixtures.reward";

    /** The doubling questions as prompts (GRPO's data), each with its answer as the reference. */
    static final String PROMPTS_DATASET = "doubling-prompts";

    /** Preference pairs of the doubling questions: the right answer chosen, a refusal rejected. */
    static final String PAIRS_DATASET = "doubling-pairs";

    static synchronized void prepare(ObjectStore store) throws IOException {
        if (baseDir != null) {
            return;
        }
        String prepared = System.getProperty(PREPARED_ROOT);
        if (prepared != null) {
            Path root = Path.of(prepared);
            baseDir = root.resolve("model");
            trained = Path.of(System.getProperty(PREPARED_TRAINED));
            fresh = root.resolve("fresh");
            store(store, root);
            return;
        }
        Path root = Files.createTempDirectory("eval-fixtures-");
        Path model = root.resolve("model");
        int exit = new CommandLine(new LlmCli()).execute("init-tiny", "--type", "qwen3", "--out", model.toString());
        if (exit != 0) {
            throw new IllegalStateException("init-tiny failed with exit code " + exit);
        }
        baseDir = model;
        Files.writeString(root.resolve("train.jsonl"), conversations(0, 32));
        store(store, root);
        trained = train(root, root.resolve("train.jsonl"));
        fresh = root.resolve("fresh");
        try (CausalLm base = CausalLm.load(baseDir)) {
            PeftAdapter.save(Adapters.apply(base, LoraConfig.defaults(), 7), fresh, baseDir.toString());
        }
        System.setProperty(PREPARED_TRAINED, trained.toString());
        System.setProperty(PREPARED_ROOT, root.toString());
    }

    /** The base model and the prepared dataset in the object store. */
    private static void store(ObjectStore store, Path root) throws IOException {
        uploadDirectory(store, root.resolve("model"), ObjectKeys.baseModelPrefix(BASE));
        String prefix = ObjectKeys.preparedDatasetPrefix(DATASET, "1");
        store.putFile(prefix + "train.jsonl", root.resolve("train.jsonl"), "application/jsonl");
        put(store, prefix + "validation.jsonl", conversations(32, 40));
        put(store, prefix + "test.jsonl", conversations(40, 44));
        put(store, prefix + "manifest.json", "{\"status\":\"prepared\",\"kind\":\"sft\"}");
        String prompts = ObjectKeys.preparedDatasetPrefix(PROMPTS_DATASET, "1");
        put(store, prompts + "train.jsonl", prompts(0, 32, true));
        put(store, prompts + "validation.jsonl", prompts(32, 40, true));
        put(store, prompts + "test.jsonl", prompts(40, 44, true));
        put(store, prompts + "manifest.json", "{\"status\":\"prepared\",\"kind\":\"prompt\"}");
        String pairs = ObjectKeys.preparedDatasetPrefix(PAIRS_DATASET, "1");
        put(store, pairs + "train.jsonl", pairs(0, 32));
        put(store, pairs + "validation.jsonl", pairs(32, 40));
        put(store, pairs + "test.jsonl", pairs(40, 44));
        put(store, pairs + "manifest.json", "{\"status\":\"prepared\",\"kind\":\"preference\"}");
        String labelled = ObjectKeys.preparedDatasetPrefix(LABELLED_DATASET, "1");
        put(store, labelled + "validation.jsonl", labelled(32, 40));
        put(store, labelled + "test.jsonl", labelled(40, 44));
        put(store, labelled + "manifest.json", "{\"status\":\"prepared\",\"kind\":\"unpaired_preference\"}");
    }

    /** "What is i plus i?" labelled: "2i" desirable for even i, "I cannot say." undesirable for odd i. */
    static String labelled(int from, int to) {
        StringBuilder lines = new StringBuilder();
        for (int i = from; i < to; i++) {
            boolean desirable = i % 2 == 0;
            lines.append("{\"prompt\":[{\"role\":\"user\",\"content\":\"What is ")
                    .append(i)
                    .append(" plus ")
                    .append(i)
                    .append("?\"}],\"completion\":[{\"role\":\"assistant\",\"content\":\"")
                    .append(desirable ? String.valueOf(2 * i) : "I cannot say.")
                    .append("\"}],\"label\":")
                    .append(desirable)
                    .append("}\n");
        }
        return lines.toString();
    }

    /** "What is i plus i?" as a prompt, with "2i" as its reference if {@code withReference}, as prepared. */
    static String prompts(int from, int to, boolean withReference) {
        StringBuilder lines = new StringBuilder();
        for (int i = from; i < to; i++) {
            lines.append("{\"prompt\":[{\"role\":\"user\",\"content\":\"What is ")
                    .append(i)
                    .append(" plus ")
                    .append(i)
                    .append("?\"}]")
                    .append(withReference ? ",\"reference\":\"" + 2 * i + "\"" : "")
                    .append("}\n");
        }
        return lines.toString();
    }

    /** "What is i plus i?" with "2i" chosen and "I cannot say." rejected, as dataset-service prepares pairs. */
    static String pairs(int from, int to) {
        StringBuilder lines = new StringBuilder();
        for (int i = from; i < to; i++) {
            lines.append("{\"prompt\":[{\"role\":\"user\",\"content\":\"What is ")
                    .append(i)
                    .append(" plus ")
                    .append(i)
                    .append("?\"}],\"chosen\":[{\"role\":\"assistant\",\"content\":\"")
                    .append(2 * i)
                    .append("\"}],\"rejected\":[{\"role\":\"assistant\",\"content\":\"I cannot say.\"}]}\n");
        }
        return lines.toString();
    }

    /**
     * A reward model's LoRA adapter (task_type SEQ_CLS) trained with llm's reward recipe on the pairs'
     * train split, stored as checkpoint {@code step} of {@code job}; returns its prefix. Trained once
     * per JVM (see {@link #PREPARED_ROOT} for why the path is a system property).
     */
    static synchronized String rewardCheckpoint(ObjectStore store, String job, long step) throws IOException {
        String trainedReward = System.getProperty(PREPARED_REWARD);
        if (trainedReward == null) {
            Path root = Files.createTempDirectory("eval-reward-");
            Path train = Files.writeString(root.resolve("pairs.jsonl"), pairs(0, 32));
            Engines.trainingThread();
            TrainConfig config = TrainConfig.of(baseDir, train, root.resolve("run"), Method.LORA, Objective.REWARD)
                    .with(Settings.MAX_STEPS, 30)
                    .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 8)
                    .with(Settings.LEARNING_RATE, 1e-2)
                    .with(Settings.MAX_SEQ_LENGTH, 64)
                    .with(Settings.SAVE_STEPS, 1000);
            try (Recipe recipe = Recipes.create(config, TrainingListener.NONE)) {
                recipe.setup();
                trainedReward = recipe.train().output().toString();
            }
            System.setProperty(PREPARED_REWARD, trainedReward);
        }
        return checkpoint(store, Path.of(trainedReward), job, step);
    }

    /** The directory {@link #rewardCheckpoint} stored, after it ran. */
    static Path rewardAdapter() {
        return Path.of(System.getProperty(PREPARED_REWARD));
    }

    /** The multiple-choice dataset {@link #MULTIPLE_CHOICE}, version 1, as dataset-service prepares it. */
    static void multipleChoiceDataset(ObjectStore store) {
        String prefix = ObjectKeys.preparedDatasetPrefix(MULTIPLE_CHOICE, "1");
        put(store, prefix + "train.jsonl", questions(0, 32));
        put(store, prefix + "validation.jsonl", questions(32, 40));
        put(store, prefix + "test.jsonl", questions(40, 44));
        put(store, prefix + "manifest.json", "{\"status\":\"prepared\",\"kind\":\"multiple_choice\"}");
    }

    static final String MULTIPLE_CHOICE = "doubling-choice";

    /**
     * "What is i plus i?" with the choices 2i, 2i + 1 and i, the right one (2i) at position i mod 3,
     * in dataset-service's canonical line: the conversation of the right answer, the choices, the
     * answer's index.
     */
    static String questions(int from, int to) {
        StringBuilder lines = new StringBuilder();
        for (int i = from; i < to; i++) {
            List<String> choices = new ArrayList<>(List.of(String.valueOf(2 * i + 1), String.valueOf(i)));
            choices.add(i % 3, String.valueOf(2 * i));
            lines.append("{\"messages\":[{\"role\":\"user\",\"content\":\"What is ")
                    .append(i)
                    .append(" plus ")
                    .append(i)
                    .append("?\"},{\"role\":\"assistant\",\"content\":\"")
                    .append(2 * i)
                    .append("\"}],\"choices\":[\"")
                    .append(String.join("\",\"", choices))
                    .append("\"],\"answer\":")
                    .append(i % 3)
                    .append("}\n");
        }
        return lines.toString();
    }

    /** "What is i plus i?" -> "2i", one conversation per i in [from, to). */
    static String conversations(int from, int to) {
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

    /** 40 LoRA steps at a high learning rate: the tiny model learns the answers' shape. */
    private static Path train(Path root, Path trainFile) throws IOException {
        Engines.trainingThread();
        TrainConfig config = TrainConfig.of(baseDir, trainFile, root.resolve("run"), Method.LORA, Objective.SFT)
                .with(Settings.MAX_STEPS, 40)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 8)
                .with(Settings.LEARNING_RATE, 1e-2)
                .with(Settings.MAX_SEQ_LENGTH, 64)
                .with(Settings.SAVE_STEPS, 1000);
        try (SftRecipe recipe = new SftRecipe(config, TrainingListener.NONE)) {
            recipe.setup();
            TrainResult result = recipe.train();
            return result.output();
        } catch (Exception e) {
            throw new IOException("training the fixture adapter failed", e);
        }
    }

    /** Stores the trained adapter as checkpoint {@code step} of {@code job}; returns its prefix. */
    static String trainedCheckpoint(ObjectStore store, String job, long step) throws IOException {
        return checkpoint(store, trained, job, step);
    }

    static String freshCheckpoint(ObjectStore store, String job, long step) throws IOException {
        return checkpoint(store, fresh, job, step);
    }

    static Path baseDir() {
        return baseDir;
    }

    /** The SFT adapter {@link #trainedCheckpoint} stores. */
    static Path trainedAdapter() {
        return trained;
    }

    /**
     * The reward model of {@link #rewardCheckpoint} registered as {@code model} version {@code version},
     * in the registry's layout (as registry-service stores a version).
     */
    /**
     * The reward adapter registered as {@code model@version} in the registry's layout: its files, then
     * the manifest recording each one's size and SHA-256, last, as the registry-service writes it.
     */
    static void registerRewardModel(ObjectStore store, String model, long version) throws IOException {
        rewardCheckpoint(store, "reward-fixture", 1);
        Path adapter = rewardAdapter();
        uploadDirectory(store, adapter, ObjectKeys.registryVersionPrefix(model, version));
        ObjectMapper json = new ObjectMapper();
        ObjectNode files = json.createObjectNode();
        try (Stream<Path> listing = Files.list(adapter)) {
            for (Path file : listing.filter(Files::isRegularFile).toList()) {
                files.putObject(file.getFileName().toString())
                        .put("size", Files.size(file))
                        .put("sha256", Digests.of(file));
            }
        }
        ObjectNode manifest = json.createObjectNode().put("model", model).put("version", version);
        manifest.set("files", files);
        store.putBytes(
                ObjectKeys.registryManifest(model, version), json.writeValueAsBytes(manifest), "application/json");
    }

    private static String checkpoint(ObjectStore store, Path dir, String job, long step) throws IOException {
        String prefix = ObjectKeys.checkpointPrefix(job, step);
        uploadDirectory(store, dir, prefix);
        return prefix;
    }

    private static void uploadDirectory(ObjectStore store, Path dir, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                store.putFile(prefix + file.getFileName(), file, "application/octet-stream");
            }
        }
    }

    static void put(ObjectStore store, String key, String text) {
        store.putBytes(key, text.getBytes(StandardCharsets.UTF_8), "application/octet-stream");
    }
}
