package dev.finetune.llm.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the loader needs from tokenizer.json besides the tokenizer itself, which DJL's binding
 * does not expose: the vocabulary size (largest id + 1, added tokens included, as transformers'
 * {@code len(tokenizer)}), the added tokens, and the ids of a few named tokens. The file is
 * streamed, so the merges (hundreds of thousands of entries for Qwen3) are skipped, not built.
 */
record TokenizerJsonIndex(
        int vocabSize, Map<String, Integer> addedTokens, Set<Integer> specialIds, Map<String, Integer> found) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Indexes {@code json} (the content of {@code file}), looking up the ids of {@code wanted}
     * token strings in the added tokens and the model vocabulary.
     */
    static TokenizerJsonIndex read(Path file, byte[] json, Set<String> wanted) throws TokenizerException {
        Map<String, Integer> added = new HashMap<>();
        Set<Integer> special = new HashSet<>();
        Map<String, Integer> found = new HashMap<>();
        int maxId = -1;
        boolean sawModel = false;
        try (JsonParser parser = new JsonFactory(JSON).createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new TokenizerException(file, null, "not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                parser.nextToken();
                if (field.equals("added_tokens")) {
                    JsonNode tokens = parser.readValueAsTree();
                    for (int i = 0; tokens != null && i < tokens.size(); i++) {
                        JsonNode token = tokens.get(i);
                        String where = "added_tokens[" + i + "]";
                        if (!token.path("id").canConvertToInt()
                                || !token.path("content").isTextual()) {
                            throw new TokenizerException(
                                    file, where, "needs an integer 'id' and a string 'content', got " + token);
                        }
                        int id = token.get("id").asInt();
                        added.put(token.get("content").asText(), id);
                        if (token.path("special").asBoolean(false)) {
                            special.add(id);
                        }
                        maxId = Math.max(maxId, id);
                    }
                } else if (field.equals("model")) {
                    sawModel = true;
                    maxId = Math.max(maxId, readModel(file, parser, wanted, found));
                } else {
                    parser.skipChildren();
                }
            }
        } catch (JsonProcessingException e) {
            throw new TokenizerException(
                    file,
                    null,
                    "invalid JSON at line " + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage(),
                    e);
        } catch (IOException e) {
            throw new TokenizerException(file, null, "cannot be read: " + e.getMessage(), e);
        }
        if (!sawModel) {
            throw new TokenizerException(
                    file, "model", "missing; a tokenizer.json always has a model (BPE, WordLevel, ...)");
        }
        for (String token : wanted) {
            if (added.containsKey(token)) {
                found.put(token, added.get(token));
            }
        }
        return new TokenizerJsonIndex(maxId + 1, Map.copyOf(added), Set.copyOf(special), Map.copyOf(found));
    }

    /** Reads the model object; returns its largest vocabulary id. */
    private static int readModel(Path file, JsonParser parser, Set<String> wanted, Map<String, Integer> found)
            throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            throw new TokenizerException(file, "model", "must be an object, got " + parser.currentToken());
        }
        int maxId = -1;
        boolean sawVocab = false;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            if (!field.equals("vocab")) {
                parser.skipChildren();
            } else if (value == JsonToken.START_OBJECT) { // BPE, WordLevel, WordPiece: {"token": id}
                sawVocab = true;
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String token = parser.currentName();
                    if (!parser.nextToken().isNumeric()) {
                        throw new TokenizerException(
                                file, "model.vocab." + token, "id must be a number, got " + parser.getText());
                    }
                    int id = parser.getIntValue();
                    maxId = Math.max(maxId, id);
                    if (wanted.contains(token)) {
                        found.put(token, id);
                    }
                }
            } else if (value == JsonToken.START_ARRAY) { // Unigram: [["piece", score], ...], id = position
                sawVocab = true;
                int id = 0;
                while (parser.nextToken() == JsonToken.START_ARRAY) {
                    parser.nextToken();
                    String token = parser.getText();
                    if (wanted.contains(token)) {
                        found.put(token, id);
                    }
                    while (parser.nextToken() != JsonToken.END_ARRAY) { // the score
                        parser.skipChildren();
                    }
                    maxId = id++;
                }
            } else {
                throw new TokenizerException(file, "model.vocab", "must be an object or a list, got " + value);
            }
        }
        if (!sawVocab) {
            throw new TokenizerException(file, "model.vocab", "missing");
        }
        return maxId;
    }
}
