package dev.finetune.eval.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.eval.metrics.MetricNames;
import dev.finetune.eval.metrics.PreferenceMetrics;
import dev.finetune.llm.inference.RewardModel;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.peft.AdapterConfigJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates a reward model's checkpoint (an {@code objective: reward} job's: a PEFT adapter with
 * task_type SEQ_CLS, or full weights in HF's {@code *ForSequenceClassification} layout). It has a score
 * head instead of an LM head, so it neither generates nor has a next-token loss: it is scored on the
 * held-out preference pairs, each answer's score read at its last token, and reports
 *
 * <ul>
 *   <li>{@code preference_accuracy}: the share of pairs whose chosen answer scores strictly higher;
 *   <li>{@code reward_margin}: the mean of score(chosen) - score(rejected);
 *   <li>{@code reward_loss}: the Bradley-Terry loss, mean(-log sigmoid(margin)).
 * </ul>
 *
 * The base model's metrics beside them are the language model's own ranking of the same pairs (each
 * answer's summed log-probability, as for any preference dataset): {@code preference_accuracy} compares
 * directly; the margins are in different units.
 */
final class RewardCheckpoints {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RewardCheckpoints() {}

    /**
     * Whether the checkpoint in {@code directory} is a reward model's.
     *
     * @throws EvaluationFailure if its adapter_config.json or config.json cannot be read
     */
    static boolean isRewardModel(Path directory) {
        Path adapterConfig = directory.resolve(AdapterConfigJson.FILE_NAME);
        Path config = directory.resolve("config.json");
        try {
            if (Files.exists(adapterConfig)) {
                return AdapterConfigJson.read(adapterConfig).sequenceClassification();
            }
            if (!Files.exists(config)) {
                return false;
            }
            for (JsonNode architecture : JSON.readTree(config.toFile()).path("architectures")) {
                if (architecture.asText().endsWith("ForSequenceClassification")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new EvaluationFailure("checkpoint " + directory.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The reward model's metrics on {@code pairs}, scored {@code batchSize} sequences at a time.
     *
     * @param baseDir the base model the adapter applies to (unused for full weights)
     * @throws EvaluationFailure if there are no pairs or the checkpoint cannot be loaded as a reward model
     */
    static ModelScoring.Scored score(
            EvaluationRequest r, Path baseDir, Path checkpointDir, List<PreferencePair> pairs, int batchSize) {
        if (pairs.isEmpty()) {
            throw new EvaluationFailure("checkpoint " + r.checkpointPrefix()
                    + " is a reward model, which is evaluated on preference pairs (prompt, chosen, rejected);"
                    + " dataset " + r.datasetName() + "@" + r.datasetVersion() + " has none");
        }
        List<long[]> chosen = pairs.stream().map(PreferencePair::chosenSequence).toList();
        List<long[]> rejected =
                pairs.stream().map(PreferencePair::rejectedSequence).toList();
        double[] chosenScores;
        double[] rejectedScores;
        try (RewardModel model = load(r, baseDir, checkpointDir)) {
            chosenScores = model.scores(chosen, batchSize);
            rejectedScores = model.scores(rejected, batchSize);
        }
        PreferenceMetrics preference = PreferenceMetrics.of(chosenScores, rejectedScores);
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put(MetricNames.PREFERENCE_ACCURACY, preference.accuracy());
        metrics.put(MetricNames.REWARD_MARGIN, preference.margin());
        metrics.put(MetricNames.REWARD_LOSS, PreferenceMetrics.bradleyTerryLoss(chosenScores, rejectedScores));
        long tokens = 0;
        for (int i = 0; i < pairs.size(); i++) {
            tokens += chosen.get(i).length + rejected.get(i).length;
        }
        return new ModelScoring.Scored(metrics, tokens, List.of());
    }

    private static RewardModel load(EvaluationRequest r, Path baseDir, Path checkpointDir) {
        try {
            return Files.exists(checkpointDir.resolve(AdapterConfigJson.FILE_NAME))
                    ? RewardModel.load(baseDir, checkpointDir)
                    : RewardModel.load(checkpointDir);
        } catch (IOException | RuntimeException e) {
            throw new EvaluationFailure(
                    "checkpoint " + r.checkpointPrefix() + " cannot be loaded as a reward model of " + r.baseModel()
                            + ": " + String.valueOf(e.getMessage()).replace(checkpointDir + "/", r.checkpointPrefix()),
                    e);
        }
    }
}
