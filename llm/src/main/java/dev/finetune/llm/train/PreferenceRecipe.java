package dev.finetune.llm.train;

import dev.finetune.events.Objective;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.LabelledCompletion;
import dev.finetune.llm.objective.OrpoLoss;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.RewardLoss;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Preference optimisation, with TRL's metrics; full fine-tuning, LoRA or QLoRA, run by the shared
 * {@link TrainingLoop}. On prompt / chosen / rejected conversations: DPO ({@link DpoStep}: the job's
 * loss_type against the policy's starting point as reference) or ORPO ({@link OrpoStep}: the chosen
 * sequences' NLL plus an odds-ratio term, no reference). On prompt / completion / label examples: KTO
 * ({@link KtoStep}: against the same reference, with a KL baseline), each example laid out as a pair of
 * its completion and its KL completion ({@link LabelledCompletion#withKlCompletions}). On pairs again,
 * with a score head in place of the LM head: a reward model ({@link RewardStep}, Bradley-Terry loss with
 * each row's optional {@code margin}).
 */
public final class PreferenceRecipe implements Recipe {
    private final TrainConfig config;
    private final TrainingLoop loop;

    private Tokenizer tokenizer;
    private List<PreferencePair> pairs;
    private boolean[] desirable; // kto: each example's label; empty for pairs
    private long padId;
    private ReferenceModel reference; // dpo, kto

    public PreferenceRecipe(TrainConfig config, TrainingListener listener) {
        this.config = config;
        this.loop = new TrainingLoop(config, listener);
    }

    @Override
    public void setup() throws IOException {
        tokenizer = Tokenizer.load(config.model());
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        if (config.objective() == Objective.KTO) {
            encodeLabelled(encoder);
        } else {
            pairs = encodePairs(encoder, config.trainFile());
            desirable = new boolean[0];
        }
        boolean reward = config.objective() == Objective.REWARD;
        double[] margins = reward ? margins(config.trainFile()) : new double[0];
        TrainableModel model = loop.prepare(pairs.size(), fingerprint(margins), loaded -> {
            if (reward) {
                loaded.attachScoreHead(
                        RecipeSupport.padId(tokenizer, loaded),
                        config.training().seed());
            }
        });
        padId = RecipeSupport.padId(tokenizer, model.model());
        int batchSize = config.training().batchSize();
        switch (config.objective()) {
            case REWARD:
                List<PreferencePair> validationPairs =
                        RecipeSupport.validation(config, file -> encodePairs(encoder, file));
                double[] validationMargins =
                        validationPairs.isEmpty() ? new double[0] : margins(config.validationFile());
                loop.resume(new RewardStep(
                        pairs,
                        margins,
                        padId,
                        new RewardLoss(
                                config.setting(Settings.CENTER_REWARDS_COEFFICIENT),
                                model.model().manager()),
                        validationPairs,
                        validationMargins,
                        batchSize));
                break;
            case ORPO:
                loop.resume(new OrpoStep(
                        pairs,
                        padId,
                        new OrpoLoss(
                                config.setting(Settings.BETA), model.model().manager()),
                        RecipeSupport.validation(config, file -> encodePairs(encoder, file)),
                        batchSize));
                break;
            case KTO:
                List<LabelledCompletion> validationExamples =
                        RecipeSupport.validation(config, file -> labelledExamples(encoder, file));
                KtoStep kto = new KtoStep(
                        model,
                        pairs,
                        desirable,
                        padId,
                        config.kto().loss(model.model().manager()),
                        LabelledCompletion.withKlCompletions(
                                validationExamples, batchSize, config.training().maxSeqLength()),
                        labels(validationExamples),
                        batchSize);
                loop.resume(kto);
                kto.precomputeReference(batchSize, config.setting(Settings.PRECOMPUTE_REF_LOG_PROBS));
                reference = kto.reference();
                break;
            default:
                List<PreferencePair> validation = RecipeSupport.validation(config, file -> encodePairs(encoder, file));
                DpoStep dpo = new DpoStep(model, pairs, padId, config.dpo(), validation, batchSize);
                loop.resume(dpo); // restores stored reference scores, if the checkpoint has them
                dpo.precomputeReference(batchSize, config.setting(Settings.PRECOMPUTE_REF_LOG_PROBS));
                reference = dpo.reference();
        }
    }

    /** Each preference row's margin (reward: subtracted in the loss; 0 where a row has none). */
    private static double[] margins(Path file) throws IOException {
        return ChatDatasets.preferences(file).stream()
                .mapToDouble(ChatDatasets.Preference::margin)
                .toArray();
    }

    /** The prompt / chosen / rejected conversations of {@code file}, tokenized. */
    private List<PreferencePair> encodePairs(ChatEncoder encoder, Path file) throws IOException {
        List<PreferencePair> encoded = new ArrayList<>();
        for (ChatDatasets.Preference preference : ChatDatasets.preferences(file)) {
            encoded.add(encoder.preference(
                    preference.prompt(),
                    preference.chosen(),
                    preference.rejected(),
                    config.setting(Settings.MAX_PROMPT_LENGTH),
                    config.training().maxSeqLength()));
        }
        return encoded;
    }

    private void encodeLabelled(ChatEncoder encoder) throws IOException {
        List<LabelledCompletion> examples = labelledExamples(encoder, config.trainFile());
        pairs = LabelledCompletion.withKlCompletions(
                examples, config.training().batchSize(), config.training().maxSeqLength());
        desirable = labels(examples);
    }

    /** The prompt / completion / label examples of {@code file}, tokenized. */
    private List<LabelledCompletion> labelledExamples(ChatEncoder encoder, Path file) throws IOException {
        List<LabelledCompletion> examples = new ArrayList<>();
        for (ChatDatasets.Labelled example : ChatDatasets.labelled(file)) {
            examples.add(encoder.labelled(
                    example.prompt(),
                    example.completion(),
                    example.desirable(),
                    config.setting(Settings.MAX_PROMPT_LENGTH),
                    config.training().maxSeqLength()));
        }
        return examples;
    }

    private static boolean[] labels(List<LabelledCompletion> examples) {
        boolean[] labels = new boolean[examples.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = examples.get(i).desirable();
        }
        return labels;
    }

    private String fingerprint(double[] margins) {
        // the objective's code: "dpo" as before ORPO came, and a run never resumes another objective's checkpoint
        DataFingerprint fingerprint =
                new DataFingerprint().add(config.objective().code());
        for (PreferencePair pair : pairs) {
            fingerprint.add(pair.prompt()).add(pair.chosen()).add(pair.rejected());
        }
        if (desirable.length > 0) {
            fingerprint.add(desirable);
        }
        if (margins.length > 0) {
            fingerprint.add(
                    Arrays.stream(margins).mapToLong(Double::doubleToLongBits).toArray());
        }
        return fingerprint.hex();
    }

    @Override
    public TrainResult train() throws IOException {
        return loop.run();
    }

    @Override
    public Path saveCheckpoint() throws IOException {
        return loop.saveCheckpoint();
    }

    @Override
    public void requestStop() {
        loop.requestStop();
    }

    @Override
    public TrainableModel model() {
        return loop.model();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The tokenized training items: pairs, or for kto each example with its KL completion. */
    public List<PreferencePair> pairs() {
        return pairs;
    }

    /** For kto, each example's label (true: desirable); empty for pairs. */
    public boolean[] desirable() {
        return desirable.clone();
    }

    /** Reference forward passes so far (batches scored); 0 for orpo, which has no reference. */
    int referenceForwardPasses() {
        return reference == null ? 0 : reference.forwardPasses();
    }

    /** The id that pads batches. */
    public long padId() {
        return padId;
    }

    @Override
    public void cleanup() {
        loop.close();
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
