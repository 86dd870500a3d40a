package dev.finetune.dataset.tokens;

import dev.finetune.dataset.format.CanonicalExample;
import dev.finetune.dataset.format.Message;
import dev.finetune.dataset.prepare.TokenCounter;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.ChatTemplate;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Counts tokens with a base model's own tokenizer. Message contents are encoded in batches (the
 * tokenizer uses native threads); the tokens the chat template adds around each turn are measured
 * once per role by rendering a small conversation, instead of rendering every example: exact for
 * templates that wrap each turn the same way (ChatML, Llama 3), a close estimate for others.
 */
public final class ModelTokenCounter implements TokenCounter {
    private final String model;
    private final Tokenizer tokenizer;
    private final Map<String, Integer> overheadByRole;

    public ModelTokenCounter(String model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.overheadByRole = measureOverhead(tokenizer);
    }

    @Override
    public String name() {
        return model + (overheadByRole.isEmpty() ? " tokenizer (contents only: no chat template)" : " tokenizer");
    }

    @Override
    public int count(CanonicalExample example) {
        return countAll(List.of(example))[0];
    }

    @Override
    public int[] countAll(List<CanonicalExample> examples) {
        List<String> contents = new ArrayList<>();
        for (CanonicalExample e : examples) {
            e.messages().forEach(m -> contents.add(m.text()));
            if (e.isPreference()) {
                e.chosen().forEach(m -> contents.add(m.text()));
                e.rejected().forEach(m -> contents.add(m.text()));
            }
            if (hasReference(e)) {
                contents.add(e.reference());
            }
        }
        List<int[]> encoded = tokenizer.encodeBatch(contents, false);
        int[] counts = new int[examples.size()];
        int next = 0;
        for (int i = 0; i < counts.length; i++) {
            CanonicalExample e = examples.get(i);
            if (e.tokens() != null) {
                counts[i] = TokenCounter.tokenized(e);
                continue;
            }
            int prompt = 0;
            for (Message m : e.messages()) {
                prompt += encoded.get(next++).length + overheadByRole.getOrDefault(m.role(), 0);
            }
            if (hasReference(e)) {
                // The reference stands for the completion the method will sample: an assistant turn.
                counts[i] = prompt + encoded.get(next++).length + overheadByRole.getOrDefault("assistant", 0);
                continue;
            }
            if (!e.isPreference()) {
                counts[i] = prompt;
                continue;
            }
            int chosen = 0;
            for (Message m : e.chosen()) {
                chosen += encoded.get(next++).length + overheadByRole.getOrDefault(m.role(), 0);
            }
            int rejected = 0;
            for (Message m : e.rejected()) {
                rejected += encoded.get(next++).length + overheadByRole.getOrDefault(m.role(), 0);
            }
            counts[i] = prompt + Math.max(chosen, rejected);
        }
        return counts;
    }

    private static boolean hasReference(CanonicalExample e) {
        return e.isPromptOnly() && !e.reference().isEmpty();
    }

    /** Template tokens per turn, by role: rendered turn minus its content. Empty without a template. */
    private static Map<String, Integer> measureOverhead(Tokenizer tokenizer) {
        Optional<ChatTemplate> template = tokenizer.chatTemplate();
        if (template.isEmpty()) {
            return Map.of();
        }
        try {
            String user = "Which planet is largest?";
            String assistant = "Jupiter is the largest planet.";
            String system = "You answer briefly.";
            int userAssistant = rendered(
                    tokenizer, template.get(), List.of(ChatMessage.user(user), ChatMessage.assistant(assistant)));
            int withSystem = rendered(
                    tokenizer,
                    template.get(),
                    List.of(ChatMessage.system(system), ChatMessage.user(user), ChatMessage.assistant(assistant)));
            int perTurn = Math.max(0, (userAssistant - length(tokenizer, user) - length(tokenizer, assistant)) / 2);
            int systemTurn = Math.max(0, withSystem - userAssistant - length(tokenizer, system));
            return Map.of("user", perTurn, "assistant", perTurn, "system", systemTurn);
        } catch (RuntimeException e) {
            return Map.of(); // a template that cannot render this shape: count contents only, and say so
        }
    }

    private static int rendered(Tokenizer tokenizer, ChatTemplate template, List<ChatMessage> messages) {
        return tokenizer.encode(template.render(messages, false), false).length;
    }

    private static int length(Tokenizer tokenizer, String text) {
        return tokenizer.encode(text, false).length;
    }
}
