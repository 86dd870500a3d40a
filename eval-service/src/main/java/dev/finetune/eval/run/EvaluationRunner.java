package dev.finetune.eval.run;

import static dev.finetune.eval.run.BaseMetricsCache.ZERO_SHOT;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.contracts.RegistryReference;
import dev.finetune.eval.EvalSettings;
import dev.finetune.eval.metrics.MetricNames;
import dev.finetune.events.DatasetKind;
import dev.finetune.events.EvaluationCompleted.GateOutcome;
import dev.finetune.events.EvaluationStatus;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.memory.NativeAllocator;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Engines;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.quant.BaseStorage;
import dev.finetune.llm.rewards.ModelReward;
import dev.finetune.llm.rewards.Rewards;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.SpecialToken;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.llm.train.ChatDatasets;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jboss.logging.Logger;

/**
 * Evaluates one checkpoint against its base model: load the data, get the base model's metrics,
 * zero-shot and prompted as the {@link PromptBaseline} says (each cached per base model, dataset
 * version, limits and storage), apply the checkpoint, score it (a reward model's on its preference
 * pairs, {@link RewardCheckpoints}), apply the gates. Runs on the caller's (worker) thread; the model and its arrays live only as long as the
 * call. Missing or unreadable inputs end as {@link EvaluationFailure}; store errors propagate.
 */
@ApplicationScoped
public class EvaluationRunner {
    private static final Logger LOG = Logger.getLogger(EvaluationRunner.class);

    private final ModelFiles files;
    private final BaseMetricsCache baseCache;
    private final EvaluationPhases phases;
    private final EvalSettings settings;
    private final ScoringStorage storage;

    EvaluationRunner(
            ModelFiles files,
            BaseMetricsCache baseCache,
            EvaluationPhases phases,
            EvalSettings settings,
            ScoringStorage storage) {
        this.files = files;
        this.baseCache = baseCache;
        this.phases = phases;
        this.settings = settings;
        this.storage = storage;
    }

    public Limits limits() {
        return Limits.of(settings);
    }

    /** Says which native allocator the models' memory comes from (the service images preload jemalloc). */
    void logAllocator(@Observes StartupEvent startup) {
        NativeAllocator.report(LOG::info, LOG::warn);
    }

    /**
     * What one evaluation reads: the base model's files and tokenizer, the held-out examples as they
     * are, and, when the prompt baseline is on and the dataset has a train split, the baseline and
     * the same examples with its prompt before them (else null).
     */
    private record Inputs(
            Path baseDir,
            Tokenizer tokenizer,
            EvalExamples validation,
            EvalExamples test,
            PromptBaseline baseline,
            EvalExamples promptedValidation,
            EvalExamples promptedTest) {}

    public EvaluationReport run(EvaluationRequest r) {
        Engines.inferenceThread(); // this worker thread records no gradients
        String id = r.evaluationId();
        Limits limits = limits();
        Inputs in = phases.run("load-data", id, () -> loadInputs(r, limits));
        Path checkpointDir = null;
        CausalLm model = null;
        try (Tokenizer tokenizer = in.tokenizer()) {
            long padId = padId(tokenizer);
            BaseStorage stored = storage.forEvaluation(in.baseDir(), r.method());
            BaseMetricsCache.Entry base = baseCache
                    .get(r.baseModel(), r.datasetName(), r.datasetVersion(), limits, stored.dtype(), ZERO_SHOT)
                    .orElse(null);
            BaseMetricsCache.Entry prompted = in.baseline() == null
                    ? null
                    : baseCache
                            .get(
                                    r.baseModel(),
                                    r.datasetName(),
                                    r.datasetVersion(),
                                    limits,
                                    stored.dtype(),
                                    in.baseline().key())
                            .orElse(null);
            if (base == null || (in.baseline() != null && prompted == null)) {
                CausalLm baseModel = phases.run("load-model", id, () -> loadModel(in.baseDir(), stored, "base model"));
                model = baseModel;
                if (base == null) {
                    base = scoreBase(
                            r,
                            limits,
                            stored,
                            baseModel,
                            tokenizer,
                            padId,
                            "base-metrics",
                            in.validation(),
                            in.test(),
                            ZERO_SHOT);
                }
                if (in.baseline() != null && prompted == null) {
                    prompted = scoreBase(
                            r,
                            limits,
                            stored,
                            baseModel,
                            tokenizer,
                            padId,
                            "prompt-baseline-metrics",
                            in.promptedValidation(),
                            in.promptedTest(),
                            in.baseline().key());
                }
            }
            checkpointDir = phases.run("load-checkpoint", id, () -> files.checkpoint(r.checkpointPrefix()));
            ModelScoring.Scored scored;
            PolicyRewards.Result rewarded = null;
            if (RewardCheckpoints.isRewardModel(checkpointDir)) {
                if (model != null) {
                    model.close(); // the base language model, done with: the reward model loads its own copy
                    model = null;
                }
                Path rewardCheckpoint = checkpointDir;
                scored = phases.run(
                        "checkpoint-metrics",
                        id,
                        () -> RewardCheckpoints.score(
                                r,
                                in.baseDir(),
                                rewardCheckpoint,
                                in.validation().pairs(),
                                settings.batchSize()));
            } else {
                Policy policy = applyCheckpoint(r, in.baseDir(), checkpointDir, model, stored);
                model = policy.model();
                LOG.infof(
                        "evaluation %s: decoding steps run %s",
                        id,
                        model.decodesCompiled()
                                ? "compiled"
                                : "op by op (a quantised, fp16 or DoRA layer, or compiled decoding turned off)");
                CausalLm evaluated = model;
                scored = phases.run("checkpoint-metrics", id, () -> scoring(evaluated, tokenizer, padId)
                        .score(in.validation(), in.test(), limits.maxNewTokens(), stopTokens(tokenizer, evaluated)));
                if (!r.rewards().values().isEmpty()) {
                    rewarded = phases.run(
                            "reward-metrics",
                            id,
                            () -> rewardMetrics(r, in.baseDir(), policy, stored, tokenizer, padId, in.test(), limits));
                }
            }
            Map<String, Double> baseMetrics = base.metrics();
            if (rewarded != null) {
                Map<String, Double> metrics = new LinkedHashMap<>(scored.metrics());
                metrics.put(MetricNames.REWARD, rewarded.reward());
                metrics.put(MetricNames.KL, rewarded.kl());
                scored = new ModelScoring.Scored(metrics, scored.scoredTokens(), scored.generations());
                baseMetrics = new LinkedHashMap<>(baseMetrics);
                baseMetrics.put(MetricNames.REWARD, rewarded.baseReward());
            }
            Map<String, Double> baselineMetrics = prompted == null ? Map.of() : prompted.metrics();
            List<GateOutcome> gates = r.gates().evaluate(scored.metrics(), baseMetrics, baselineMetrics);
            boolean passed = gates.stream().allMatch(GateOutcome::passed);
            // Applying the gates takes microseconds: an event on the evaluation's span, not a span.
            Span.current()
                    .addEvent(
                            "eval.gates",
                            Attributes.of(
                                    AttributeKey.stringKey("eval.gates.outcome"),
                                    passed ? "passed" : "failed",
                                    AttributeKey.longKey("eval.gates.applied"),
                                    (long) gates.size()));
            List<Generation> all = scored.generations();
            return new EvaluationReport(
                    id,
                    r.jobId(),
                    r.step(),
                    r.checkpointPrefix(),
                    r.reportKey(),
                    r.baseModel(),
                    r.datasetName(),
                    r.datasetVersion(),
                    methodName(r, checkpointDir),
                    passed ? EvaluationStatus.PASSED : EvaluationStatus.GATES_FAILED,
                    scored.metrics(),
                    baseMetrics,
                    baselineMetrics,
                    improvement(scored.metrics(), baseMetrics),
                    gates,
                    limits,
                    stored.dtype().configName(),
                    scored.scoredTokens(),
                    all.subList(0, Math.min(settings.sampleGenerations(), all.size())),
                    all,
                    base.generations(),
                    in.baseline(),
                    prompted == null ? List.of() : prompted.generations(),
                    null,
                    Instant.now());
        } finally {
            if (model != null) {
                model.close();
            }
            ModelFiles.delete(checkpointDir);
        }
    }

    /** Scores the base model on {@code validation} and {@code test} as {@code variant}, and caches the result. */
    private BaseMetricsCache.Entry scoreBase(
            EvaluationRequest r,
            Limits limits,
            BaseStorage stored,
            CausalLm baseModel,
            Tokenizer tokenizer,
            long padId,
            String phase,
            EvalExamples validation,
            EvalExamples test,
            String variant) {
        ModelScoring.Scored scored = phases.run(phase, r.evaluationId(), () -> scoring(baseModel, tokenizer, padId)
                .score(validation, test, limits.maxNewTokens(), stopTokens(tokenizer, baseModel)));
        BaseMetricsCache.Entry entry = new BaseMetricsCache.Entry(
                r.baseModel(),
                r.datasetName(),
                r.datasetVersion(),
                limits,
                scored.metrics(),
                scored.scoredTokens(),
                scored.generations());
        baseCache.put(entry, stored.dtype(), variant);
        return entry;
    }

    private Inputs loadInputs(EvaluationRequest r, Limits limits) {
        Path baseDir = files.baseModel(r.baseModel());
        Path validation =
                files.split(r.datasetName(), r.datasetVersion(), "validation").orElse(null);
        Path test = files.split(r.datasetName(), r.datasetVersion(), "test").orElse(null);
        if (validation == null && test == null) {
            throw new EvaluationFailure("dataset " + r.datasetName() + "@" + r.datasetVersion()
                    + " has no validation or test example to evaluate on");
        }
        Path scoredSplit = validation != null ? validation : test;
        Path generatedSplit = test != null ? test : validation;
        Tokenizer tokenizer = null;
        try {
            tokenizer = Tokenizer.load(baseDir);
            DatasetKind kind = kind(scoredSplit);
            EvalExamples v = EvalExamples.read(scoredSplit, kind, tokenizer, limits.maxExamples(), limits.maxTokens());
            EvalExamples t = EvalExamples.read(
                    generatedSplit, kind, tokenizer, limits.maxGenerationExamples(), limits.maxTokens());
            if (kind == DatasetKind.PROMPT
                    && t.prompts().isEmpty()
                    && (t.unreferencedPrompts().isEmpty()
                            || r.rewards().values().isEmpty())) {
                throw new EvaluationFailure(generatedSplit.getFileName() + " of " + r.datasetName() + "@"
                        + r.datasetVersion() + " holds prompts without a reference answer and the checkpoint has no"
                        + " rewards: nothing to score the model's answers against");
            }
            if (kind != DatasetKind.PROMPT && v.scored().isEmpty()) {
                throw new EvaluationFailure(scoredSplit.getFileName() + " of " + r.datasetName() + "@"
                        + r.datasetVersion() + " has no example with a completion token to score");
            }
            PromptBaseline baseline = promptBaseline(r, kind);
            if (baseline == null) {
                return new Inputs(baseDir, tokenizer, v, t, null, null, null);
            }
            return new Inputs(
                    baseDir,
                    tokenizer,
                    v,
                    t,
                    baseline,
                    EvalExamples.read(scoredSplit, kind, tokenizer, limits.maxExamples(), limits.maxTokens(), baseline),
                    EvalExamples.read(
                            generatedSplit,
                            kind,
                            tokenizer,
                            limits.maxGenerationExamples(),
                            limits.maxTokens(),
                            baseline));
        } catch (IOException | RuntimeException e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            if (e instanceof EvaluationFailure failure) {
                throw failure;
            }
            throw new EvaluationFailure(
                    "dataset " + r.datasetName() + "@" + r.datasetVersion() + " with base model " + r.baseModel()
                            + " cannot be read: " + e.getMessage(),
                    e);
        }
    }

    /**
     * The prompt baseline for this dataset, its worked examples from the train split; null when it
     * is off or the dataset has no train split to take them from.
     */
    private PromptBaseline promptBaseline(EvaluationRequest r, DatasetKind kind) throws IOException {
        EvalSettings.PromptBaseline configured = settings.promptBaseline();
        if (!configured.enabled()) {
            return null;
        }
        if (kind == DatasetKind.TOKENIZED || kind == DatasetKind.PROMPT) {
            LOG.infof(
                    "evaluation %s: dataset %s@%s holds %s, so no prompt baseline (worked examples are"
                            + " conversations)",
                    r.evaluationId(), r.datasetName(), r.datasetVersion(), kind.description());
            return null;
        }
        Path train = files.split(r.datasetName(), r.datasetVersion(), "train").orElse(null);
        if (train == null) {
            LOG.infof(
                    "evaluation %s: dataset %s@%s has no train split, so no prompt baseline",
                    r.evaluationId(), r.datasetName(), r.datasetVersion());
            return null;
        }
        // A worked example is a conversation with the answer wanted: a pair's chosen one, a desirable completion.
        List<List<ChatMessage>> examples =
                switch (kind) {
                    case PREFERENCE -> ChatDatasets.preferences(train).stream()
                            .map(p -> concat(p.prompt(), p.chosen()))
                            .toList();
                    case UNPAIRED_PREFERENCE -> ChatDatasets.labelled(train).stream()
                            .filter(ChatDatasets.Labelled::desirable)
                            .map(l -> concat(l.prompt(), l.completion()))
                            .toList();
                    default -> ChatDatasets.conversations(train);
                };
        return PromptBaseline.choose(configured, examples);
    }

    private static List<ChatMessage> concat(List<ChatMessage> a, List<ChatMessage> b) {
        List<ChatMessage> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** The model evaluated, and its adapters (null for full weights). */
    private record Policy(CausalLm model, Adapters adapters) {}

    /**
     * The policy's reward and KL to the base model on the generation prompts, and the base model's
     * reward ({@link PolicyRewards}). The reference is the same model with the adapters off, or, for
     * full weights, the base model loaded beside it. The rewards' reward models are loaded for this
     * evaluation and freed after it.
     */
    private PolicyRewards.Result rewardMetrics(
            EvaluationRequest r,
            Path baseDir,
            Policy policy,
            BaseStorage stored,
            Tokenizer tokenizer,
            long padId,
            EvalExamples test,
            Limits limits) {
        Rewards parsed;
        try {
            SettingValues settings = SettingValues.read(r.rewards().values());
            parsed = Rewards.parse(
                    r.objective(),
                    localRewardFuncs(settings.explicit(Settings.REWARD_FUNCS).orElse(List.of())),
                    settings.explicit(Settings.REWARD_WEIGHTS).orElse(List.of()));
        } catch (SettingException | IllegalArgumentException e) {
            throw new EvaluationFailure("job " + r.jobId() + "'s rewards cannot be used: " + e.getMessage(), e);
        }
        // The prompts with a reference answer, and, unless a reward compares with it, those without.
        List<long[]> prompts = new ArrayList<>(test.prompts());
        List<String> references = new ArrayList<>(test.references());
        if (!parsed.needsReference()) {
            prompts.addAll(test.unreferencedPrompts());
            test.unreferencedPrompts().forEach(prompt -> references.add(null));
        }
        if (prompts.isEmpty()) {
            throw new EvaluationFailure(
                    "job " + r.jobId() + "'s rewards " + r.rewards().values() + " need each"
                            + " prompt's reference answer, and none of the "
                            + test.unreferencedPrompts().size()
                            + " held-out prompts has one");
        }
        CausalLm separateBase =
                policy.adapters() == null ? loadModel(baseDir, stored, "base model (the policy's reference)") : null;
        PolicyRewards.Reference reference = policy.adapters() != null
                ? PolicyRewards.Reference.adaptersOff(policy.model(), policy.adapters())
                : PolicyRewards.Reference.separate(separateBase);
        try (Rewards rewards = parsed.load(baseDir)) {
            return new PolicyRewards(
                            tokenizer,
                            padId,
                            settings.batchSize(),
                            limits.maxNewTokens(),
                            stopTokens(tokenizer, policy.model()))
                    .score(policy.model(), reference, rewards, prompts, references);
        } catch (EvaluationFailure e) {
            throw e;
        } catch (Exception e) {
            throw new EvaluationFailure(
                    "job " + r.jobId() + "'s rewards " + r.rewards().values() + " cannot score the policy: "
                            + e.getMessage(),
                    e);
        } finally {
            if (separateBase != null) {
                separateBase.close();
            }
        }
    }

    /** The job's reward_funcs, each registered reward model ({@code model:registry:<model>@<version>}) as its local directory. */
    private List<String> localRewardFuncs(List<String> rewardFuncs) {
        List<String> local = new ArrayList<>();
        for (String spec : rewardFuncs) {
            String location = spec.startsWith(ModelReward.PREFIX)
                    ? spec.substring(ModelReward.PREFIX.length()).strip()
                    : "";
            if (!RegistryReference.isReference(location)) {
                local.add(spec);
                continue;
            }
            RegistryReference reference = RegistryReference.parse(location);
            if (!reference.isPinned()) {
                throw new EvaluationFailure(
                        "reward_funcs entry \"" + spec + "\" names no version: training pins"
                                + " a registered reward model to one, so the checkpoint's rewards are the ones it trained with");
            }
            local.add(ModelReward.PREFIX + files.registered(reference.model(), reference.version()));
        }
        return local;
    }

    /**
     * The model to evaluate: the base model with the adapter attached, or the checkpoint's full
     * weights, stored as {@code stored}.
     */
    private Policy applyCheckpoint(
            EvaluationRequest r, Path baseDir, Path checkpointDir, CausalLm loaded, BaseStorage stored) {
        return phases.run("apply-checkpoint", r.evaluationId(), () -> {
            boolean adapter = r.method() != null
                    ? r.method() != FineTuneMethod.FULL
                    : Files.exists(checkpointDir.resolve("adapter_config.json"));
            if (!adapter) {
                if (loaded != null) {
                    loaded.close();
                }
                return new Policy(loadModel(checkpointDir, stored, "checkpoint " + r.checkpointPrefix()), null);
            }
            CausalLm model = loaded != null ? loaded : loadModel(baseDir, stored, "base model");
            try {
                return new Policy(model, PeftAdapter.load(model, checkpointDir, stored));
            } catch (IOException | RuntimeException e) {
                model.close();
                throw new EvaluationFailure(
                        "checkpoint " + r.checkpointPrefix() + " cannot be loaded as an adapter of " + r.baseModel()
                                + ": "
                                + String.valueOf(e.getMessage()).replace(checkpointDir + "/", r.checkpointPrefix()),
                        e);
            }
        });
    }

    /** Loads tensor by tensor, the decoder linears straight into {@code stored}. */
    private static CausalLm loadModel(Path dir, BaseStorage stored, String what) {
        try {
            return CausalLm.load(dir, CausalLm.preferredDevice(), stored);
        } catch (IOException | RuntimeException e) {
            throw new EvaluationFailure(what + " cannot be loaded: " + e.getMessage(), e);
        }
    }

    private ModelScoring scoring(CausalLm model, Tokenizer tokenizer, long padId) {
        return new ModelScoring(model, tokenizer, padId, settings.batchSize());
    }

    /** What a prepared split holds, from the fields of its first line in canonical JSONL. */
    private static DatasetKind kind(Path split) throws IOException {
        try (var lines = Files.lines(split)) {
            String first = lines.filter(l -> !l.isBlank()).findFirst().orElse("{}");
            JsonNode fields = KIND_JSON.readTree(first);
            if (fields.has("input_ids")) {
                return DatasetKind.TOKENIZED;
            }
            if (fields.has("chosen")) {
                return DatasetKind.PREFERENCE;
            }
            if (fields.has("label")) {
                return DatasetKind.UNPAIRED_PREFERENCE;
            }
            if (fields.has("prompt")) {
                return DatasetKind.PROMPT; // a prompt with neither answers nor a label: GRPO/PPO data
            }
            return fields.has("choices") ? DatasetKind.MULTIPLE_CHOICE : DatasetKind.SFT;
        }
    }

    private static final ObjectMapper KIND_JSON = new ObjectMapper();

    private static long padId(Tokenizer tokenizer) {
        return tokenizer
                .specialTokens()
                .pad()
                .map(SpecialToken::id)
                .map(Integer::longValue)
                .orElse(0L);
    }

    private static Set<Long> stopTokens(Tokenizer tokenizer, CausalLm model) {
        Set<Long> stops = new TreeSet<>();
        tokenizer.specialTokens().stopIds().forEach(t -> stops.add((long) t));
        model.config().eosTokenIds().forEach(t -> stops.add((long) t));
        return stops;
    }

    private static String methodName(EvaluationRequest r, Path checkpointDir) {
        if (r.method() != null) {
            return r.method().code();
        }
        return Files.exists(checkpointDir.resolve("adapter_config.json")) ? "adapter" : "full";
    }

    /** Positive = the checkpoint is better (see {@link EvaluationReport#improvement()}). */
    static Map<String, Double> improvement(Map<String, Double> metrics, Map<String, Double> base) {
        Map<String, Double> result = new LinkedHashMap<>();
        metrics.forEach((name, value) -> {
            Double b = base.get(name);
            if (b != null) {
                result.put(name, MetricNames.LOWER_IS_BETTER.contains(name) ? b - value : value - b);
            }
        });
        return result;
    }
}
