package dev.finetune.eval.run;

import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.llm.train.ChatDatasets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A dataset split tokenised for evaluation with the base model's chat template, cut to the limits:
 *
 * <ul>
 *   <li>{@code scored}: whole examples whose completion tokens are scored (the assistant turns of a
 *       conversation; the chosen completion of a preference pair);
 *   <li>{@code prompts}/{@code references}: the conversation up to its last assistant turn (with
 *       the generation prompt) and that turn's text (a pair's chosen answer), for generation;
 *   <li>{@code pairs}: preference pairs (empty for conversations).
 * </ul>
 *
 * Examples are taken in file order, so the same split and limits always select the same examples.
 */
public record EvalExamples(
        List<TrainingSequence> scored, List<long[]> prompts, List<String> references, List<PreferencePair> pairs) {

    /** Reads up to {@code maxExamples} examples of a split in canonical JSONL. */
    public static EvalExamples read(Path file, boolean preference, Tokenizer tokenizer, int maxExamples, int maxTokens)
            throws IOException {
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        List<TrainingSequence> scored = new ArrayList<>();
        List<long[]> prompts = new ArrayList<>();
        List<String> references = new ArrayList<>();
        List<PreferencePair> pairs = new ArrayList<>();
        if (preference) {
            for (ChatDatasets.Preference p : first(ChatDatasets.preferences(file), maxExamples)) {
                PreferencePair pair =
                        encoder.preference(p.prompt(), p.chosen(), p.rejected(), maxTokens / 2, maxTokens);
                pairs.add(pair);
                scored.add(completionSequence(pair.prompt(), pair.chosen()));
                prompts.add(pair.prompt());
                references.add(p.chosen().get(p.chosen().size() - 1).content());
            }
        } else {
            for (List<ChatMessage> messages : first(ChatDatasets.conversations(file), maxExamples)) {
                encoder.sft(messages, true, maxTokens).ifPresent(scored::add);
                int last = lastAssistant(messages);
                long[] prompt = Arrays.stream(tokenizer.encodeChat(messages.subList(0, last), true, Map.of()))
                        .asLongStream()
                        .toArray();
                prompts.add(
                        prompt.length > maxTokens
                                ? Arrays.copyOfRange(prompt, prompt.length - maxTokens, prompt.length)
                                : prompt);
                references.add(messages.get(last).content());
            }
        }
        return new EvalExamples(scored, prompts, references, pairs);
    }

    /** Prompt followed by completion, only the completion's tokens scored. */
    static TrainingSequence completionSequence(long[] prompt, long[] completion) {
        long[] ids = Arrays.copyOf(prompt, prompt.length + completion.length);
        System.arraycopy(completion, 0, ids, prompt.length, completion.length);
        boolean[] targets = new boolean[ids.length];
        Arrays.fill(targets, Math.max(1, prompt.length), ids.length, true);
        return TrainingSequence.of(ids, targets);
    }

    private static int lastAssistant(List<ChatMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role().equals("assistant")) {
                return i;
            }
        }
        throw new IllegalArgumentException("conversation has no assistant message");
    }

    private static <T> List<T> first(List<T> all, int n) {
        return all.subList(0, Math.min(n, all.size()));
    }
}
