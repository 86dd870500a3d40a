package dev.finetune.llm.cli;

import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.inference.Generator;
import dev.finetune.llm.inference.TokenListener;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.ChatTemplate;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
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
 * by token; timing goes to stderr. The tokenizer loads first and the prompt (and the adapter's
 * config) are checked before the weights load, so a bad input fails in milliseconds. With {@code
 * --adapter} the LoRA adapter is applied to the loaded model before generation starts.
 */
@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        header = "Streams the continuation of a prompt or a chat to stdout.",
        description = {
            "Streams the continuation to stdout; stops at the tokenizer's eos tokens (generation_config.json's"
                    + " eos_token_id, else tokenizer_config.json's eos_token) and config.json's eos_token_id.",
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
        @Option(names = "--prompt", paramLabel = "TEXT", description = "Raw text to continue (no chat template).")
        private String prompt;

        @Option(
                names = "--messages",
                paramLabel = "FILE.json",
                description = "A conversation: [{\"role\": ..., \"content\": ...}, ...], rendered with the chat"
                        + " template and the assistant's generation prompt.")
        private Path messages;

        @Option(
                names = "--chat",
                paramLabel = "TEXT",
                description = "One user message, rendered with the chat template.")
        private String chat;
    }

    @Option(
            names = "--max-new-tokens",
            paramLabel = "N",
            defaultValue = "128",
            description = "Default: ${DEFAULT-VALUE}.")
    private int maxNewTokens;

    @Option(
            names = "--temperature",
            paramLabel = "T",
            defaultValue = "0",
            description = "0 = greedy (default); otherwise sample from softmax(logits / T).")
    private double temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Nucleus sampling mass in (0, 1].")
    private double topP;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Sampling seed.")
    private long seed;

    @Option(names = "--no-cache", description = "Recompute the whole sequence per token (no KV cache; slow).")
    private boolean noCache;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        GenerationConfig settings = settings();
        ModelDirectory directory = ModelDirectory.open(spec, models.model);
        Optional<AdapterDirectory> adapterDirectory = AdapterDirectory.open(spec, models.adapter);
        try (Tokenizer tokenizer = Tokenizer.load(directory.path())) {
            long[] prompt = promptIds(tokenizer);
            directory.requireInVocabulary(prompt, inputFlag());
            Set<Long> stops = new TreeSet<>();
            tokenizer.specialTokens().stopIds().forEach(id -> stops.add((long) id));
            directory.config().eosTokenIds().forEach(id -> stops.add((long) id));
            try (CausalLm lm = CausalLm.load(directory.path(), CausalLm.preferredDevice(), models.storage())) {
                if (adapterDirectory.isPresent()) {
                    adapterDirectory.get().applyTo(lm, models.storage());
                }
                stream(lm, tokenizer, prompt, settings.withStopTokens(stops), start);
            }
        }
        return 0;
    }

    private GenerationConfig settings() {
        if (maxNewTokens < 1) {
            throw new ParameterException(
                    spec.commandLine(), "--max-new-tokens: must be a positive integer, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new ParameterException(
                    spec.commandLine(), "--temperature: must be 0 (greedy) or positive, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new ParameterException(spec.commandLine(), "--top-p: must be in (0, 1], got " + topP);
        }
        return GenerationConfig.greedy(maxNewTokens)
                .withSampling(temperature, topP, seed)
                .withKvCache(!noCache);
    }

    private long[] promptIds(Tokenizer tokenizer) {
        int[] ids;
        if (input.prompt != null) {
            ids = tokenizer.encode(input.prompt, true);
        } else {
            ChatTemplate template = tokenizer
                    .chatTemplate()
                    .orElseThrow(() -> new InputException(inputFlag() + ": the tokenizer in '" + models.model
                            + "' has no chat template (tokenizer_config.json: chat_template); use --prompt"));
            List<Map<String, Object>> messages = input.chat != null
                    ? List.of(ChatMessage.user(input.chat).toMap())
                    : ChatMessagesFile.read(input.messages);
            // As transformers' apply_chat_template: the template writes the special tokens itself.
            ids = tokenizer.encode(template.renderMaps(messages, true, Map.of()), false);
        }
        if (ids.length == 0) {
            throw new InputException(inputFlag() + ": the prompt encodes to no tokens; generation needs at least one");
        }
        return Arrays.stream(ids).asLongStream().toArray();
    }

    private String inputFlag() {
        return input.prompt != null ? "--prompt" : input.chat != null ? "--chat" : "--messages";
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
        long[] generated =
                Generator.generate(lm, List.of(prompt), settings, printer).get(0);
        out.println(text.finish());
        out.flush();
        long end = System.nanoTime();
        spec.commandLine()
                .getErr()
                .println(String.format(
                        Locale.ROOT,
                        "time to first token %d ms (loading %d ms, prompt %d tokens); %d tokens in %d ms,"
                                + " %.1f tokens/s",
                        millis(firstToken[0] - start),
                        millis(generationStart - start),
                        prompt.length,
                        generated.length,
                        millis(end - generationStart),
                        generated.length / ((end - generationStart) / 1e9)));
        spec.commandLine().getErr().flush();
    }

    private static long millis(long nanos) {
        return Math.round(nanos / 1e6);
    }
}
