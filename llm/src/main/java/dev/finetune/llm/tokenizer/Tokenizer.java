package dev.finetune.llm.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A HuggingFace tokenizer loaded from a model directory: {@code tokenizer.json} (run by the Rust
 * tokenizers library through DJL's binding, whose native library ships in the jar and loads
 * offline), {@code tokenizer_config.json} (special tokens, chat template) and, if present,
 * {@code generation_config.json} (the ids that stop generation).
 *
 * <p>Encoding follows transformers: {@code encode(text, true)} adds what tokenizer.json's
 * post-processor adds (nothing for Qwen, BOS for Llama); text containing a special token such as
 * {@code <|im_start|>} encodes it as its single id. Thread-safe; close it to free the native tokenizer.
 */
public final class Tokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final SpecialTokens specialTokens;
    private final Optional<ChatTemplate> chatTemplate;
    private final boolean cleanUpTokenizationSpaces;

    private Tokenizer(
            HuggingFaceTokenizer tokenizer,
            int vocabSize,
            SpecialTokens specialTokens,
            Optional<ChatTemplate> chatTemplate,
            boolean cleanUpTokenizationSpaces) {
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.specialTokens = specialTokens;
        this.chatTemplate = chatTemplate;
        this.cleanUpTokenizationSpaces = cleanUpTokenizationSpaces;
    }

    /**
     * Loads the tokenizer of the model in {@code modelDir}.
     *
     * @throws TokenizerException naming the file and field if a file is missing or unusable, or a
     *     special token in tokenizer_config.json is not in tokenizer.json's vocabulary
     */
    public static Tokenizer load(Path modelDir) throws TokenizerException {
        Path tokenizerFile = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokenizerFile)) {
            throw new TokenizerException(tokenizerFile, null, "missing: a model directory needs tokenizer.json");
        }
        TokenizerConfig config = TokenizerConfig.read(modelDir);
        byte[] json;
        try {
            json = Files.readAllBytes(tokenizerFile);
        } catch (IOException e) {
            throw new TokenizerException(tokenizerFile, null, "cannot be read: " + e.getMessage(), e);
        }
        TokenizerJsonIndex index = TokenizerJsonIndex.read(
                tokenizerFile, json, Set.copyOf(config.specialTokenText().values()));
        return new Tokenizer(
                djlTokenizer(tokenizerFile, json),
                index.vocabSize(),
                specialTokens(modelDir, config, index),
                chatTemplate(config),
                config.cleanUpTokenizationSpaces());
    }

    /** Resolves tokenizer_config.json's special tokens to ids and reads the stop ids. */
    private static SpecialTokens specialTokens(Path modelDir, TokenizerConfig config, TokenizerJsonIndex index)
            throws TokenizerException {
        Map<String, Integer> ids = new HashMap<>(index.found());
        config.addedTokensDecoder().forEach((id, content) -> ids.put(content, id));
        Map<String, SpecialToken> resolved = new HashMap<>();
        for (var named : config.specialTokenText().entrySet()) {
            Integer id = ids.get(named.getValue());
            if (id == null) {
                throw new TokenizerException(
                        modelDir.resolve(TokenizerConfig.FILE),
                        named.getKey(),
                        "'" + named.getValue() + "' is not a token of tokenizer.json"
                                + " (neither an added token nor in model.vocab)");
            }
            resolved.put(named.getKey(), new SpecialToken(named.getValue(), id));
        }
        Optional<SpecialToken> eos = Optional.ofNullable(resolved.get("eos_token"));
        List<Integer> stopIds = config.generationEosIds()
                .orElseGet(() -> eos.map(t -> List.of(t.id())).orElse(List.of()));
        for (int id : stopIds) {
            if (id < 0 || id >= index.vocabSize()) {
                throw new TokenizerException(
                        modelDir.resolve("generation_config.json"),
                        "eos_token_id",
                        id + " is outside the vocabulary (size " + index.vocabSize() + ")");
            }
        }
        Set<Integer> specialIds = new HashSet<>(index.specialIds());
        specialIds.addAll(config.addedSpecialIds());
        return new SpecialTokens(
                Optional.ofNullable(resolved.get("bos_token")),
                eos,
                Optional.ofNullable(resolved.get("pad_token")),
                Optional.ofNullable(resolved.get("unk_token")),
                stopIds,
                specialIds);
    }

    private static Optional<ChatTemplate> chatTemplate(TokenizerConfig config) throws TokenizerException {
        if (config.chatTemplate().isEmpty()) {
            return Optional.empty();
        }
        TokenizerConfig.TemplateSource source = config.chatTemplate().get();
        try {
            return Optional.of(ChatTemplate.of(source.template(), templateVariables(config), source.describe()));
        } catch (ChatTemplateException e) {
            throw new TokenizerException(source.file(), source.field(), e.getMessage(), e);
        }
    }

    /** transformers' {@code special_tokens_map}: what a chat template sees as bos_token, eos_token, .... */
    private static Map<String, Object> templateVariables(TokenizerConfig config) {
        Map<String, Object> variables = new LinkedHashMap<>(config.specialTokenText());
        if (!config.additionalSpecialTokens().isEmpty()) {
            variables.put("additional_special_tokens", config.additionalSpecialTokens());
        }
        return variables;
    }

    private static HuggingFaceTokenizer djlTokenizer(Path file, byte[] json) throws TokenizerException {
        // Padding and truncation off: callers batch and cut sequences themselves.
        Map<String, String> options = Map.of("padding", "false", "truncation", "false", "addSpecialTokens", "true");
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
        } catch (IOException | RuntimeException e) {
            throw new TokenizerException(file, null, "the tokenizers library rejected it: " + e.getMessage(), e);
        }
    }

    /** Token ids of {@code text}; {@code addSpecialTokens} applies tokenizer.json's post-processor (BOS/EOS). */
    public int[] encode(String text, boolean addSpecialTokens) {
        return toInts(tokenizer.encode(text, addSpecialTokens, false).getIds());
    }

    /** Token ids of each text, encoded in parallel by the native library; no padding. */
    public List<int[]> encodeBatch(List<String> texts, boolean addSpecialTokens) {
        Encoding[] encodings = tokenizer.batchEncode(texts, addSpecialTokens, false);
        List<int[]> ids = new ArrayList<>(encodings.length);
        for (Encoding encoding : encodings) {
            ids.add(toInts(encoding.getIds()));
        }
        return ids;
    }

    /** The text of {@code ids}; {@code skipSpecialTokens} drops special tokens such as {@code <|im_end|>}. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException(
                        "token id " + ids[i] + " is outside the vocabulary (size " + vocabSize + ")");
            }
            longs[i] = ids[i];
        }
        String text = tokenizer.decode(longs, skipSpecialTokens);
        return cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text;
    }

    /** transformers' {@code clean_up_tokenization}: drops spaces before punctuation and English contractions. */
    static String cleanUpTokenization(String text) {
        return text.replace(" .", ".")
                .replace(" ?", "?")
                .replace(" !", "!")
                .replace(" ,", ",")
                .replace(" ' ", "'")
                .replace(" n't", "n't")
                .replace(" 'm", "'m")
                .replace(" 's", "'s")
                .replace(" 've", "'ve")
                .replace(" 're", "'re");
    }

    /**
     * Renders a conversation with the model's chat template and encodes it without adding special
     * tokens (the template writes them), as transformers' {@code apply_chat_template(tokenize=True)}.
     *
     * @throws IllegalStateException if the model has no chat template
     */
    public int[] encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> variables) {
        ChatTemplate template = chatTemplate.orElseThrow(
                () -> new IllegalStateException("this model's tokenizer_config.json has no chat_template"));
        return encode(template.render(messages, addGenerationPrompt, variables), false);
    }

    /** Number of token ids: the model vocabulary plus added tokens ({@code len(tokenizer)} in transformers). */
    public int vocabSize() {
        return vocabSize;
    }

    public SpecialTokens specialTokens() {
        return specialTokens;
    }

    /** The model's chat template, if its tokenizer files have one. */
    public Optional<ChatTemplate> chatTemplate() {
        return chatTemplate;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }
}
