package dev.finetune.llm.cli;

import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.GenerationDefaults;
import dev.finetune.llm.inference.DraftTally;
import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.inference.Generator;
import dev.finetune.llm.inference.TokenListener;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.ChatTemplate;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code llm generate}: continues a prompt or a conversation and streams the text to stdout token
 * by token; timing goes to stderr. Several prompts (or chats), or several samples per prompt, run
 * as one batch and are printed one after another when it ends. The tokenizer loads first and the
 * prompts (and the adapter's config) are checked before the weights load, so a bad input fails in
 * milliseconds. With {@code --adapter} the LoRA adapter is applied to the loaded model before
 * generation starts.
 */
@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        header = "Streams the continuation of a prompt or a chat to stdout; several run as one batch.",
        description = {
            "Streams the continuation to stdout; stops at the tokenizer's eos tokens (generation_config.json's"
                    + " eos_token_id, else tokenizer_config.json's eos_token) and config.json's eos_token_id.",
            "With several --prompt or --chat options, or -n above 1, the sequences are generated as one batch"
                    + " and printed in order, each under a line '--- prompt I of P, sample J of N ---'.",
            "Prints to stderr: time to first token (from the start of the command, model load included),"
                    + " the number of new tokens and tokens/s (new tokens over the time from the start of"
                    + " generation, prompt processing included)."
        })
final class GenerateCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOptions models;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private PromptInput input;

    static final class PromptInput {
        @Option(
                names = "--prompt",
                paramLabel = "TEXT",
                description = "Raw text to continue (no chat template); repeat for a batch of prompts.")
        private List<String> prompts;

        @Option(
                names = "--messages",
                paramLabel = "FILE.json",
                description = "A conversation: [{\"role\": ..., \"content\": ...}, ...], rendered with the chat"
                        + " template and the assistant's generation prompt.")
        private Path messages;

        @Option(
                names = "--chat",
                paramLabel = "TEXT",
                description = "One user message, rendered with the chat template; repeat for a batch of chats.")
        private List<String> chats;
    }

    @Option(
            names = "--max-new-tokens",
            paramLabel = "N",
            description = "Default: the model's generation_config.json max_new_tokens, else 128.")
    private Integer maxNewTokens;

    @Option(
            names = "--temperature",
            paramLabel = "T",
            description = "0 = greedy; otherwise sample from softmax(logits / T). Default: the model's"
                    + " generation_config.json (its temperature if do_sample is true, else greedy).")
    private Double temperature;

    @Option(
            names = "--top-p",
            paramLabel = "P",
            description = "Nucleus sampling mass in (0, 1]. Default: the model's generation_config.json, else 1.")
    private Double topP;

    @Option(
            names = "--top-k",
            paramLabel = "K",
            description = "Sample among the K most probable tokens only (0 = no limit). Default: the model's"
                    + " generation_config.json, else 50 (transformers' default).")
    private Integer topK;

    @Option(
            names = {"-n", "--num-return-sequences"},
            paramLabel = "N",
            defaultValue = "1",
            description = "Sequences per prompt (default 1); they share the prompt's processing. Use with"
                    + " --temperature, or all N are the greedy continuation.")
    private int sequencesPerPrompt;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Sampling seed.")
    private long seed;

    @Option(names = "--no-cache", description = "Recompute the whole sequence per token (no KV cache; slow).")
    private boolean noCache;

    @Option(
            names = "--prompt-lookup",
            paramLabel = "N",
            defaultValue = "0",
            description = "Prompt lookup decoding (transformers' prompt_lookup_num_tokens): a sequence decoding"
                    + " alone checks up to N tokens that followed an earlier occurrence of its last tokens in one"
                    + " pass; the output is the same, faster when it copies its input or repeats itself. Greedy"
                    + " only; 0 = off (default).")
    private int promptLookup;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        checkFlags();
        ModelDirectory directory = ModelDirectory.open(spec, models.model);
        GenerationConfig settings = settings(directory.path());
        Optional<AdapterDirectory> adapterDirectory = AdapterDirectory.open(spec, models.adapter);
        try (Tokenizer tokenizer = Tokenizer.load(directory.path())) {
            List<long[]> prompts = promptIds(tokenizer);
            for (long[] prompt : prompts) {
                directory.requireInVocabulary(prompt, inputFlag());
            }
            Set<Long> stops = new TreeSet<>();
            tokenizer.specialTokens().stopIds().forEach(id -> stops.add((long) id));
            directory.config().eosTokenIds().forEach(id -> stops.add((long) id));
            try (CausalLm lm = CausalLm.load(directory.path(), CausalLm.preferredDevice(), models.storage())) {
                if (adapterDirectory.isPresent()) {
                    adapterDirectory.get().applyTo(lm, models.storage());
                }
                if (prompts.size() == 1 && settings.numReturnSequences() == 1) {
                    stream(lm, tokenizer, prompts.get(0), settings.withStopTokens(stops), start);
                } else {
                    batch(lm, tokenizer, prompts, settings.withStopTokens(stops), start);
                }
            }
        }
        return 0;
    }

    /** The flags' checks, before anything is loaded. */
    private void checkFlags() {
        if (maxNewTokens != null && maxNewTokens < 1) {
            throw new ParameterException(
                    spec.commandLine(), "--max-new-tokens: must be a positive integer, got " + maxNewTokens);
        }
        if (temperature != null && (!(temperature >= 0) || Double.isInfinite(temperature))) {
            throw new ParameterException(
                    spec.commandLine(), "--temperature: must be 0 (greedy) or positive, got " + temperature);
        }
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw new ParameterException(spec.commandLine(), "--top-p: must be in (0, 1], got " + topP);
        }
        if (topK != null && topK < 0) {
            throw new ParameterException(spec.commandLine(), "--top-k: must be 0 (no limit) or positive, got " + topK);
        }
        if (promptLookup < 0 || promptLookup > GenerationConfig.MAX_PROMPT_LOOKUP_TOKENS) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--prompt-lookup: must be in [0, " + GenerationConfig.MAX_PROMPT_LOOKUP_TOKENS + "], got "
                            + promptLookup);
        }
        if (sequencesPerPrompt < 1) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--num-return-sequences: must be a positive integer, got " + sequencesPerPrompt);
        }
    }

    /**
     * The model's generation defaults ({@code generation_config.json}, read as transformers does;
     * transformers' own without the file), each overridden by its flag when given: a temperature
     * above 0 samples, 0 is greedy, and without one the model's {@code do_sample} decides.
     */
    private GenerationConfig settings(Path modelDir) {
        GenerationDefaults defaults;
        try {
            defaults = GenerationDefaults.of(modelDir);
        } catch (CheckpointException e) {
            throw new ParameterException(spec.commandLine(), "--model: " + e.getMessage());
        }
        double t = temperature != null ? temperature : defaults.doSample() ? defaults.temperature() : 0;
        if (promptLookup > 0 && t != 0) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--prompt-lookup: needs greedy decoding, but the temperature is " + t
                            + (temperature != null ? "" : " (the model's generation_config.json samples)")
                            + "; add --temperature 0");
        }
        return GenerationConfig.greedy(
                        maxNewTokens != null
                                ? maxNewTokens
                                : defaults.maxNewTokens().orElse(128))
                .withSampling(t, topP != null ? topP : defaults.topP(), seed)
                .withTopK(topK != null ? topK : defaults.topK())
                .withNumReturnSequences(sequencesPerPrompt)
                .withKvCache(!noCache)
                .withPromptLookup(promptLookup);
    }

    private List<long[]> promptIds(Tokenizer tokenizer) {
        List<long[]> prompts = new ArrayList<>();
        if (input.prompts != null) {
            for (String prompt : input.prompts) {
                prompts.add(nonEmpty(tokenizer.encode(prompt, true), prompts.size()));
            }
            return prompts;
        }
        ChatTemplate template = tokenizer
                .chatTemplate()
                .orElseThrow(() -> new InputException(inputFlag() + ": the tokenizer in '" + models.model
                        + "' has no chat template (tokenizer_config.json: chat_template); use --prompt"));
        List<List<Map<String, Object>>> conversations = new ArrayList<>();
        if (input.chats != null) {
            input.chats.forEach(
                    chat -> conversations.add(List.of(ChatMessage.user(chat).toMap())));
        } else {
            conversations.add(ChatMessagesFile.read(input.messages));
        }
        for (List<Map<String, Object>> messages : conversations) {
            // As transformers' apply_chat_template: the template writes the special tokens itself.
            prompts.add(
                    nonEmpty(tokenizer.encode(template.renderMaps(messages, true, Map.of()), false), prompts.size()));
        }
        return prompts;
    }

    private long[] nonEmpty(int[] ids, int index) {
        if (ids.length == 0) {
            String which = index == 0 && !severalInputs() ? "" : " number " + (index + 1);
            throw new InputException(
                    inputFlag() + which + ": the prompt encodes to no tokens; generation needs at least one");
        }
        return Arrays.stream(ids).asLongStream().toArray();
    }

    private boolean severalInputs() {
        return (input.prompts != null && input.prompts.size() > 1) || (input.chats != null && input.chats.size() > 1);
    }

    private String inputFlag() {
        return input.prompts != null ? "--prompt" : input.chats != null ? "--chat" : "--messages";
    }

    private void stream(CausalLm lm, Tokenizer tokenizer, long[] prompt, GenerationConfig settings, long start) {
        PrintWriter out = spec.commandLine().getOut();
        TextStream text = new TextStream(tokenizer);
        long generationStart = System.nanoTime();
        long[] firstToken = new long[1]; // set by the listener
        TokenListener printer = (sequence, step, token) -> {
            if (step == 0) {
                firstToken[0] = System.nanoTime();
            }
            out.print(text.append(token));
            out.flush();
        };
        DraftTally drafts = new DraftTally(printer);
        long[] generated =
                Generator.generate(lm, List.of(prompt), settings, drafts).get(0);
        out.println(text.finish());
        out.flush();
        printTiming(
                start,
                generationStart,
                firstToken[0],
                System.nanoTime(),
                "prompt " + prompt.length + " tokens",
                "",
                generated.length,
                settings,
                drafts);
    }

    /**
     * Several prompts or samples: one batch, then each sequence under a header line naming its
     * prompt and sample, in order.
     */
    private void batch(CausalLm lm, Tokenizer tokenizer, List<long[]> prompts, GenerationConfig settings, long start) {
        PrintWriter out = spec.commandLine().getOut();
        long generationStart = System.nanoTime();
        long[] firstToken = new long[1];
        DraftTally drafts = new DraftTally((sequence, step, token) -> {
            if (firstToken[0] == 0) {
                firstToken[0] = System.nanoTime();
            }
        });
        List<long[]> generated = Generator.generate(lm, prompts, settings, drafts);
        long end = System.nanoTime();
        int n = settings.numReturnSequences();
        long tokens = 0;
        for (int r = 0; r < generated.size(); r++) {
            out.printf(
                    Locale.ROOT, "--- prompt %d of %d, sample %d of %d ---%n", r / n + 1, prompts.size(), r % n + 1, n);
            TextStream text = new TextStream(tokenizer);
            StringBuilder sequence = new StringBuilder();
            for (long token : generated.get(r)) {
                sequence.append(text.append(token));
            }
            out.println(sequence.append(text.finish()));
            tokens += generated.get(r).length;
        }
        out.flush();
        printTiming(
                start,
                generationStart,
                firstToken[0],
                end,
                prompts.size() + " prompts",
                generated.size() + " sequences, ",
                tokens,
                settings,
                drafts);
    }

    /**
     * The timing line on stderr: time to first token from the command's start (loading included), then
     * the new tokens and their rate from the start of generation (prompt processing included) to
     * {@code end}; with prompt lookup, what its checks kept.
     */
    private void printTiming(
            long start,
            long generationStart,
            long firstToken,
            long end,
            String input,
            String sequences,
            long tokens,
            GenerationConfig settings,
            DraftTally drafts) {
        spec.commandLine()
                .getErr()
                .println(String.format(
                                Locale.ROOT,
                                "time to first token %d ms (loading %d ms, %s); %s%d tokens in %d ms, %.1f tokens/s",
                                millis(firstToken - start),
                                millis(generationStart - start),
                                input,
                                sequences,
                                tokens,
                                millis(end - generationStart),
                                tokens / ((end - generationStart) / 1e9))
                        + (settings.promptLookupTokens() > 0 ? "; prompt lookup " + drafts.summary() : ""));
        spec.commandLine().getErr().flush();
    }

    private static long millis(long nanos) {
        return Math.round(nanos / 1e6);
    }
}
