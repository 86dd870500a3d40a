package dev.finetune.llm.train;

import dev.finetune.llm.tokenizer.ChatTemplate;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.llm.tokenizer.ToolCallSupport;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The check that training data with tool calls meets a chat template that renders them. */
final class ToolUse {
    private ToolUse() {}

    /**
     * Refuses {@code conversations} if one uses tools (calls, results or a {@code tools} list) and the
     * model's chat template does not render tool calls ({@link ToolCallSupport}): trained through such
     * a template, the calls would vanish from the text. The template is probed only when needed.
     *
     * @throws DatasetException naming the template and the first line that uses tools
     */
    static void requireRenderable(Tokenizer tokenizer, Path file, List<ChatDatasets.Conversation> conversations)
            throws DatasetException {
        Optional<ChatDatasets.Conversation> first = conversations.stream()
                .filter(ChatDatasets.Conversation::usesTools)
                .findFirst();
        if (first.isEmpty()) {
            return;
        }
        Optional<ChatTemplate> template = tokenizer.chatTemplate();
        if (template.isPresent() && ToolCallSupport.rendersToolCalls(template.get())) {
            return;
        }
        String which = template.map(t -> "the model's chat template (" + t.source() + ")")
                .orElse("the model (it has no chat template)");
        throw new DatasetException(
                file,
                first.get().line(),
                "this example uses tools (tool_calls, tool messages or a tools list), but " + which
                        + " does not render tool calls; train a model whose chat template supports tools,"
                        + " or remove the tool examples");
    }
}
