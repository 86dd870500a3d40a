package dev.finetune.llm.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A conversation in a JSON file, as chat templates receive it: an array of messages such as
 * {@code [{"role": "system", "content": "..."}, {"role": "user", "content": "..."}]}, or an object
 * with such an array under {@code "messages"} (the OpenAI request shape). Fields beyond role and
 * content ({@code tool_calls}, {@code reasoning_content}) are passed to the template unchanged.
 */
final class ChatMessagesFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatMessagesFile() {}

    /** The messages of {@code file}; every problem is reported with the file and the message index. */
    static List<Map<String, Object>> read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InputException("--messages: file '" + file + "' does not exist");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new InputException(
                    "--messages: " + file + ": invalid JSON at line "
                            + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage(),
                    e);
        } catch (IOException e) {
            throw new InputException("--messages: " + file + ": cannot be read: " + e.getMessage(), e);
        }
        JsonNode messages = root != null && root.isObject() ? root.get("messages") : root;
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw new InputException("--messages: " + file
                    + ": expected a non-empty JSON array of messages (or an object with one under \"messages\")");
        }
        List<Map<String, Object>> result = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            String where = "--messages: " + file + ": messages[" + i + "]";
            if (!message.isObject()) {
                throw new InputException(where + ": must be an object with \"role\" and \"content\", got " + message);
            }
            if (!message.path("role").isTextual()) {
                throw new InputException(where + ": \"role\" must be a string, got " + message.get("role"));
            }
            JsonNode content = message.get("content");
            if (content != null && !content.isTextual() && !content.isNull()) {
                throw new InputException(where + ": \"content\" must be a string or null, got " + content);
            }
            result.add(JSON.convertValue(message, new TypeReference<Map<String, Object>>() {}));
        }
        return result;
    }
}
