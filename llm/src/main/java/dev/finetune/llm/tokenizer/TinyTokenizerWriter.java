package dev.finetune.llm.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a small but complete HuggingFace tokenizer into a directory (tokenizer.json and
 * tokenizer_config.json), so tiny test models have real tokenizer files without downloading
 * anything. It is a byte-level BPE tokenizer like GPT-2's and Qwen's: the 256 byte symbols, about a
 * hundred merges of common English fragments (the ChatML role names and "Hello world" first, so
 * {@code system}, {@code user}, {@code assistant}, {@code Hello} and {@code " world"} are single
 * tokens; later fragments may conflict and stay split), and the ChatML special tokens
 * {@code <|endoftext|>}, {@code <|im_start|>}, {@code <|im_end|>} with a ChatML chat template.
 * Any UTF-8 text round-trips, since every byte has a token.
 */
public final class TinyTokenizerWriter {
    /** Padding / end of text, then the ChatML turn markers; their ids follow the BPE vocabulary. */
    public static final List<String> SPECIAL_TOKENS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");

    /** The ChatML template, as in transformers' chat templating documentation. */
    public static final String CHATML_TEMPLATE = "{% for message in messages %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
            + "{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /** Words whose prefixes become merges, in merge-rank order (Ġ is the byte-level space, Ċ newline). */
    private static final List<String> MERGE_WORDS = List.of(
            "system",
            "user",
            "assistant",
            "Hello",
            "Ġworld",
            "ĊĊ",
            "Ġthe",
            "Ġt",
            "Ġa",
            "he",
            "in",
            "re",
            "on",
            "er",
            "Ġs",
            "at",
            "Ġw",
            "Ġo",
            "en",
            "Ġc",
            "it",
            "is",
            "an",
            "or",
            "es",
            "Ġb",
            "ed",
            "Ġf",
            "ing",
            "Ġp",
            "ou",
            "Ġto",
            "Ġin",
            "Ġof",
            "Ġand",
            "Ġm",
            "Ġd",
            "Ġh",
            "al",
            "ar",
            "le",
            "Ġis",
            "Ġyou",
            "Ġit",
            "ll",
            "Ġhe",
            "Ġre",
            "as",
            "ic",
            "Ġl",
            "Ġn",
            "Ġe",
            "Ġg",
            "Ġy",
            "Ġthat",
            "Ġfor",
            "Ġwith",
            "Ġon",
            "Ġbe",
            "Ġhello",
            "ion",
            "Ġwhat",
            "Ġcan",
            "Ġhelp");

    /** What was written. */
    public record Written(Path tokenizerJson, Path tokenizerConfig, int vocabSize) {}

    private TinyTokenizerWriter() {}

    /** Writes tokenizer.json and tokenizer_config.json into {@code directory} (created if needed). */
    public static Written write(Path directory) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        char[] byteSymbols = byteSymbols();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(byteSymbols[b]), b);
        }
        List<List<String>> merges = new ArrayList<>();
        for (String word : MERGE_WORDS) {
            for (int k = 2; k <= word.length(); k++) {
                if (!vocab.containsKey(word.substring(0, k))) {
                    merges.add(List.of(word.substring(0, k - 1), word.substring(k - 1, k)));
                    vocab.put(word.substring(0, k), vocab.size());
                }
            }
        }
        List<Map<String, Object>> addedTokens = new ArrayList<>();
        Map<String, Object> addedTokensDecoder = new LinkedHashMap<>();
        for (String token : SPECIAL_TOKENS) {
            int id = vocab.size() + addedTokens.size();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("content", token);
            entry.put("single_word", false);
            entry.put("lstrip", false);
            entry.put("rstrip", false);
            entry.put("normalized", false);
            entry.put("special", true);
            addedTokensDecoder.put(String.valueOf(id), entry);
            Map<String, Object> withId = new LinkedHashMap<>();
            withId.put("id", id);
            withId.putAll(entry);
            addedTokens.add(withId);
        }

        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", null);
        model.put("end_of_word_suffix", null);
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        model.put("vocab", vocab);
        model.put("merges", merges);
        Map<String, Object> tokenizer = new LinkedHashMap<>();
        tokenizer.put("version", "1.0");
        tokenizer.put("truncation", null);
        tokenizer.put("padding", null);
        tokenizer.put("added_tokens", addedTokens);
        tokenizer.put("normalizer", null);
        tokenizer.put("pre_tokenizer", byteLevel(false, true));
        tokenizer.put("post_processor", byteLevel(false, false));
        tokenizer.put("decoder", byteLevel(false, true));
        tokenizer.put("model", model);

        Map<String, Object> config = new LinkedHashMap<>();
        config.put("add_bos_token", false);
        config.put("add_prefix_space", false);
        config.put("added_tokens_decoder", addedTokensDecoder);
        config.put("additional_special_tokens", SPECIAL_TOKENS.subList(1, 3));
        config.put("bos_token", null);
        config.put("chat_template", CHATML_TEMPLATE);
        config.put("clean_up_tokenization_spaces", false);
        config.put("eos_token", "<|im_end|>");
        config.put("model_max_length", 2048);
        config.put("pad_token", "<|endoftext|>");
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        config.put("unk_token", null);

        Files.createDirectories(directory);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Path tokenizerJson = directory.resolve("tokenizer.json");
        Path tokenizerConfig = directory.resolve(TokenizerConfig.FILE);
        json.writeValue(tokenizerJson.toFile(), tokenizer);
        json.writeValue(tokenizerConfig.toFile(), config);
        return new Written(tokenizerJson, tokenizerConfig, vocab.size() + SPECIAL_TOKENS.size());
    }

    private static Map<String, Object> byteLevel(boolean addPrefixSpace, boolean trimOffsets) {
        Map<String, Object> step = new LinkedHashMap<>();
        step.put("type", "ByteLevel");
        step.put("add_prefix_space", addPrefixSpace);
        step.put("trim_offsets", trimOffsets);
        step.put("use_regex", true);
        return step;
    }

    /**
     * GPT-2's byte-to-symbol table: printable Latin-1 bytes stand for themselves, the other 68
     * bytes map to U+0100 onwards (so the space 0x20 is 'Ġ' U+0120 and newline 0x0A is 'Ċ').
     */
    static char[] byteSymbols() {
        char[] symbols = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            symbols[b] = printable ? (char) b : (char) next++;
        }
        return symbols;
    }
}
