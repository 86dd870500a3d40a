package dev.finetune.llm.rewards;

import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.inference.RewardModel;
import dev.finetune.llm.peft.AdapterConfigJson;
import dev.finetune.llm.tokenizer.TokenizerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A learned reward: a trained reward model's score of each completion's prompt and completion tokens
 * ({@link Completion#sequence()}), in batches of {@link RewardModel#DEFAULT_BATCH_SIZE}. Declared as
 * {@code model:<directory>}: a sequence classifier in HF layout (config.json, {@code score.weight}), or a
 * reward model's PEFT adapter (task_type SEQ_CLS) trained on the policy's own base model. It reads the
 * policy's token ids, so it must use the policy's tokenizer: a directory with a different tokenizer.json,
 * or without one and with another vocab_size, is refused.
 *
 * <p>{@link Rewards#parse} makes it unloaded (checking the syntax only, as job validation does); {@link
 * Rewards#load} loads it, and closing those rewards frees it.
 */
public final class ModelReward implements RewardFunction, AutoCloseable {
    public static final String PREFIX = "model:";
    private static final String TOKENIZER_FILE = "tokenizer.json";

    private final String location;
    private final RewardModel model; // null until loaded

    private ModelReward(String location, RewardModel model) {
        this.location = location;
        this.model = model;
    }

    static ModelReward unloaded(String location) {
        return new ModelReward(location, null);
    }

    /** What follows {@code model:}: the reward model's directory (or a reference a service resolves to one). */
    public String location() {
        return location;
    }

    @Override
    public String name() {
        return PREFIX + location;
    }

    /** The same reward, scoring with {@code model} (which it then owns). */
    ModelReward with(RewardModel model) {
        return new ModelReward(location, model);
    }

    /**
     * Loads the reward model in {@code directory} for a policy whose base model is {@code policyModel}:
     * a SEQ_CLS adapter goes onto that base; a sequence classifier must share its tokenizer.
     *
     * @throws CheckpointException naming the file and what does not fit
     */
    public static RewardModel load(Path directory, Path policyModel) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new CheckpointException(
                    directory, null, "is not a directory: model:<directory> names a reward model");
        }
        if (Files.exists(directory.resolve(AdapterConfigJson.FILE_NAME))) {
            try {
                return RewardModel.load(policyModel, directory);
            } catch (TokenizerException e) {
                throw new CheckpointException(policyModel, TOKENIZER_FILE, e.getMessage(), e);
            }
        }
        checkTokenizer(directory, policyModel);
        return RewardModel.load(directory);
    }

    /** The reward model reads the policy's token ids: same tokenizer.json, or, without one, the same vocab_size. */
    private static void checkTokenizer(Path directory, Path policyModel) throws IOException {
        Path rewardTokenizer = directory.resolve(TOKENIZER_FILE);
        Path policyTokenizer = policyModel.resolve(TOKENIZER_FILE);
        if (Files.exists(rewardTokenizer) && Files.exists(policyTokenizer)) {
            if (!Arrays.equals(Files.readAllBytes(rewardTokenizer), Files.readAllBytes(policyTokenizer))) {
                throw new CheckpointException(
                        rewardTokenizer,
                        null,
                        "differs from the policy's " + policyTokenizer + ": the reward model scores the policy's"
                                + " token ids, so it must have been trained with the policy's tokenizer");
            }
            return;
        }
        int rewardVocab = ModelConfigJson.read(directory.resolve(ModelConfigJson.FILE_NAME))
                .vocabSize();
        int policyVocab = ModelConfigJson.read(policyModel.resolve(ModelConfigJson.FILE_NAME))
                .vocabSize();
        if (rewardVocab != policyVocab) {
            throw new CheckpointException(
                    directory.resolve(ModelConfigJson.FILE_NAME),
                    "vocab_size",
                    rewardVocab + " differs from the policy's " + policyVocab + ": the reward model scores the"
                            + " policy's token ids, so it must use the policy's tokenizer");
        }
    }

    @Override
    public double[] scores(List<Completion> completions) {
        if (model == null) {
            throw new IllegalStateException(name() + " is not loaded: score with Rewards.load's rewards");
        }
        return model.scores(completions.stream().map(Completion::sequence).toList());
    }

    @Override
    public void close() {
        if (model != null) {
            model.close();
        }
    }
}
