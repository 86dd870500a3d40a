package dev.finetune.llm.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.inference.Generator;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A synthetic question-answering task: templated questions about countries' capitals. Every
 * (template, country) pair is an item; the held-out items are pairs never trained on, each country
 * and each template having been seen in other pairs, so answering them needs the fact, not the
 * exact string.
 */
final class CapitalsTask {
    static final List<String[]> CAPITALS = List.of(
            new String[] {"France", "Paris"},
            new String[] {"Italy", "Rome"},
            new String[] {"Spain", "Madrid"},
            new String[] {"Japan", "Tokyo"},
            new String[] {"Egypt", "Cairo"},
            new String[] {"Peru", "Lima"},
            new String[] {"Kenya", "Nairobi"},
            new String[] {"Chile", "Santiago"},
            new String[] {"Norway", "Oslo"},
            new String[] {"Cuba", "Havana"},
            new String[] {"Iran", "Tehran"},
            new String[] {"Nepal", "Kathmandu"},
            new String[] {"Germany", "Berlin"},
            new String[] {"Greece", "Athens"},
            new String[] {"Poland", "Warsaw"},
            new String[] {"Canada", "Ottawa"});
    static final List<String> TEMPLATES = List.of(
            "What is the capital of %s?",
            "Name the capital of %s.", "Which city is the capital of %s?", "Tell me the capital of %s.");

    private static final ObjectMapper JSON = new ObjectMapper();

    private CapitalsTask() {}

    record Item(String question, String answer) {
        List<ChatMessage> prompt() {
            return List.of(ChatMessage.user(question));
        }

        List<ChatMessage> conversation() {
            return List.of(ChatMessage.user(question), ChatMessage.assistant(answer));
        }
    }

    /** Country i holds out template i mod 4. */
    private static boolean heldOut(int country, int template) {
        return template == country % TEMPLATES.size();
    }

    static List<Item> training() {
        return items(false);
    }

    static List<Item> heldOut() {
        return items(true);
    }

    private static List<Item> items(boolean heldOut) {
        List<Item> items = new ArrayList<>();
        for (int c = 0; c < CAPITALS.size(); c++) {
            for (int t = 0; t < TEMPLATES.size(); t++) {
                if (heldOut(c, t) == heldOut) {
                    items.add(new Item(String.format(TEMPLATES.get(t), CAPITALS.get(c)[0]), CAPITALS.get(c)[1]));
                }
            }
        }
        return items;
    }

    /** The training items as JSON Lines in the conversational SFT form. */
    static List<String> sftLines() {
        return sftLines(training());
    }

    /** {@code items} as JSON Lines in the conversational SFT form (held-out ones: a validation split). */
    static List<String> sftLines(List<Item> items) {
        List<String> lines = new ArrayList<>();
        for (Item item : items) {
            lines.add(json(ordered(
                    "messages",
                    List.of(
                            ordered("role", "user", "content", item.question()),
                            ordered("role", "assistant", "content", item.answer())))));
        }
        return lines;
    }

    /** A map of key, value, key, value... in that order (Map.of's order changes from run to run). */
    static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Fraction of {@code items} whose greedy answer is exactly the capital followed by the end-of-turn
     * token.
     */
    static double accuracy(CausalLm model, Tokenizer tokenizer, List<Item> items) {
        List<long[]> prompts = new ArrayList<>();
        for (Item item : items) {
            prompts.add(Arrays.stream(tokenizer.encodeChat(item.prompt(), true, Map.of()))
                    .asLongStream()
                    .toArray());
        }
        long endOfTurn = tokenizer.specialTokens().eos().orElseThrow().id();
        List<long[]> answers =
                Generator.generate(model, prompts, GenerationConfig.greedy(16).withStopTokens(Set.of(endOfTurn)));
        int correct = 0;
        for (int i = 0; i < items.size(); i++) {
            long[] answer = answers.get(i);
            int[] ids = Arrays.stream(answer).mapToInt(id -> (int) id).toArray();
            boolean stopped = ids.length > 0 && ids[ids.length - 1] == endOfTurn;
            correct +=
                    stopped && tokenizer.decode(ids, true).equals(items.get(i).answer()) ? 1 : 0;
        }
        return (double) correct / items.size();
    }
}
