package dev.finetune.eval.run;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.eval.EvalSettings;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.storage.Digests;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * The prompt-engineering baseline: the base model as a user would prompt it before fine-tuning, with
 * a system prompt and {@code shots} worked examples from the train split put before each evaluated
 * conversation. The examples never come from the held-out splits, and the same settings on the same
 * dataset version always choose the same ones ({@code random} draws them with {@code seed};
 * {@code first} takes the split's first).
 *
 * <p>Where an evaluated conversation with every example would not fit the token limit, examples
 * are left out from the first on until it fits ({@link #fit}), so the conversation itself is never
 * cut for them and every model is scored on the same tokens.
 *
 * @param systemPrompt the system message; a conversation's own system message is appended to it
 * @param shots how many examples were asked for
 * @param selection {@code random} or {@code first}
 * @param seed {@code random}'s seed
 * @param examples the chosen examples (each a user/assistant conversation), at most {@code shots}
 */
public record PromptBaseline(
        String systemPrompt, int shots, String selection, long seed, List<List<ChatMessage>> examples) {
    public static final String RANDOM = "random";
    public static final String FIRST = "first";

    public PromptBaseline {
        if (shots < 0) {
            throw new InvalidInputException(
                    "pipeline.eval.prompt-baseline.shots",
                    "pipeline.eval.prompt-baseline.shots must be 0 or more, got " + shots);
        }
        if (!RANDOM.equals(selection) && !FIRST.equals(selection)) {
            throw new InvalidInputException(
                    "pipeline.eval.prompt-baseline.selection",
                    "pipeline.eval.prompt-baseline.selection must be random or first, got '" + selection + "'");
        }
        examples = List.copyOf(examples);
    }

    /** A conversation with the baseline's context before it, and where the conversation itself starts. */
    public record Prompted(List<ChatMessage> messages, int firstOwn) {}

    /** The baseline the settings describe, its examples chosen from {@code train}. */
    public static PromptBaseline choose(EvalSettings.PromptBaseline settings, List<List<ChatMessage>> train) {
        String selection = settings.selection().strip().toLowerCase(Locale.ROOT);
        PromptBaseline none = // checks the settings before they are used
                new PromptBaseline(settings.systemPrompt(), settings.shots(), selection, settings.seed(), List.of());
        List<Integer> order =
                new ArrayList<>(IntStream.range(0, train.size()).boxed().toList());
        if (RANDOM.equals(selection)) {
            Collections.shuffle(order, new Random(settings.seed()));
        }
        List<List<ChatMessage>> examples = order.subList(0, Math.min(settings.shots(), order.size())).stream()
                .map(i -> withoutSystem(train.get(i)))
                .toList();
        return new PromptBaseline(none.systemPrompt(), none.shots(), none.selection(), none.seed(), examples);
    }

    /**
     * {@code conversation} after the system prompt and the first {@code count} examples. Its own
     * system message, if it starts with one, joins the baseline's (templates take one system
     * message, first).
     */
    public Prompted apply(List<ChatMessage> conversation, int count) {
        List<ChatMessage> messages = new ArrayList<>();
        String system = systemPrompt;
        List<ChatMessage> own = conversation;
        if (!conversation.isEmpty() && conversation.get(0).role().equals("system")) {
            system = system.isBlank()
                    ? conversation.get(0).content()
                    : system + "\n\n" + conversation.get(0).content();
            own = conversation.subList(1, conversation.size());
        }
        if (!system.isBlank()) {
            messages.add(ChatMessage.system(system));
        }
        for (List<ChatMessage> example : examples.subList(0, Math.min(count, examples.size()))) {
            messages.addAll(example);
        }
        int firstOwn = messages.size();
        messages.addAll(own);
        return new Prompted(messages, firstOwn);
    }

    /**
     * The most examples (at most all) with which {@code conversation} still has at most {@code
     * maxTokens} tokens, as {@code length} counts them; 0 if even that is too long.
     */
    public int fit(List<ChatMessage> conversation, int maxTokens, Length length) {
        for (int count = examples.size(); count > 0; count--) {
            if (length.of(apply(conversation, count).messages()) <= maxTokens) {
                return count;
            }
        }
        return 0;
    }

    /** How many tokens a conversation renders to. */
    @FunctionalInterface
    public interface Length {
        int of(List<ChatMessage> messages);
    }

    /**
     * A short name of these settings for cache keys: what decides the examples and the prompt (the
     * examples themselves follow from them and the dataset version).
     */
    public String key() {
        return "prompt-"
                + Digests.of(systemPrompt + "\n" + shots + "\n" + selection + "\n" + seed)
                        .substring(0, 12);
    }

    private static List<ChatMessage> withoutSystem(List<ChatMessage> conversation) {
        return conversation.stream().filter(m -> !m.role().equals("system")).toList();
    }
}
