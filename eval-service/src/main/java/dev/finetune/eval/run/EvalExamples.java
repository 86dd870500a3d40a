package dev.finetune.eval.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.DatasetKind;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.LabelledCompletion;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.llm.train.ChatDatasets;
import java.io.IOException;
import java.nio.file.Files;
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
 *   <li>{@code pairs}: preference pairs (empty for other data);
 *   <li>{@code labelled}: labelled completions (KTO's data; empty for other data). Only the desirable
 *       ones are also {@code scored} and generated for: they are the answers wanted;
 *   <li>{@code questions}: multiple-choice questions, each choice as a completion of the question
 *       (empty for other data); their right answers are also the {@code scored} conversations.
 * </ul>
 *
 * Prompt-only lines (GRPO and PPO data) give only {@code prompts} and {@code references}, for the lines
 * with a reference answer, and {@code unreferencedPrompts}, the lines without one, which rewards that
 * need no reference (a reward model, a format or length rule) still score; nothing is {@code scored}.
 *
 * Pre-tokenized rows are scored as they are, on their trained positions; for generation the prompt is
 * the row's ids before its last trained span and the reference that span decoded with the base
 * model's tokenizer (special tokens and surrounding whitespace dropped), as a conversation's last
 * assistant turn's text would be.
 *
 * <p>Examples are taken in file order, so the same split and limits always select the same examples.
 */
public record EvalExamples(
        List<TrainingSequence> scored,
        List<long[]> prompts,
        List<String> references,
        List<PreferencePair> pairs,
        List<LabelledCompletion> labelled,
        List<Question> questions,
        List<long[]> unreferencedPrompts) {

    /**
     * A multiple-choice question: each choice's tokens after the question's (prompt and completion,
     * {@code desirable} for the right one), the choices' texts and the right one's index.
     */
    public record Question(List<LabelledCompletion> choices, List<String> texts, int answer) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads up to {@code maxExamples} examples of a split in canonical JSONL, holding {@code kind} data. */
    public static EvalExamples read(Path file, DatasetKind kind, Tokenizer tokenizer, int maxExamples, int maxTokens)
            throws IOException {
        return read(file, kind, tokenizer, maxExamples, maxTokens, null);
    }

    /**
     * As {@link #read(Path, DatasetKind, Tokenizer, int, int)}, each example with {@code baseline}'s
     * system prompt and worked examples before it (as many as fit the token limit); only the
     * example's own turns are scored and referenced. A null baseline puts nothing before them.
     */
    public static EvalExamples read(
            Path file, DatasetKind kind, Tokenizer tokenizer, int maxExamples, int maxTokens, PromptBaseline baseline)
            throws IOException {
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        List<TrainingSequence> scored = new ArrayList<>();
        List<long[]> prompts = new ArrayList<>();
        List<String> references = new ArrayList<>();
        List<long[]> unreferenced = new ArrayList<>();
        List<PreferencePair> pairs = new ArrayList<>();
        List<LabelledCompletion> labelled = new ArrayList<>();
        List<Question> questions = new ArrayList<>();
        if (kind == DatasetKind.TOKENIZED) {
            // The ids are the data: no template, so no prompt baseline either (its worked examples are text).
            for (ChatDatasets.Tokenized row : first(ChatDatasets.tokenized(file, tokenizer.vocabSize()), maxExamples)) {
                row.sequence(maxTokens).ifPresent(scored::add);
                int[] span = lastTrainedSpan(row.trained());
                long[] prompt = Arrays.copyOf(row.ids(), span[0]);
                prompts.add(
                        prompt.length > maxTokens
                                ? Arrays.copyOfRange(prompt, prompt.length - maxTokens, prompt.length)
                                : prompt);
                references.add(tokenizer
                        .decode(
                                Arrays.stream(row.ids(), span[0], span[1])
                                        .mapToInt(id -> (int) id)
                                        .toArray(),
                                true)
                        .strip()); // the template's newline after the end-of-turn token is not the answer
            }
            return new EvalExamples(scored, prompts, references, pairs, labelled, questions, List.of());
        }
        if (kind == DatasetKind.MULTIPLE_CHOICE) {
            for (JsonNode line : first(jsonLines(file), maxExamples)) {
                List<ChatMessage> question = List.of(ChatMessage.user(
                        line.path("messages").path(0).path("content").asText()));
                List<ChatMessage> context = context(baseline, question, encoder, maxTokens / 2);
                int answer = line.path("answer").asInt();
                List<String> texts = new ArrayList<>();
                List<LabelledCompletion> choices = new ArrayList<>();
                for (JsonNode choice : line.path("choices")) {
                    texts.add(choice.asText());
                    choices.add(encoder.labelled(
                            context,
                            List.of(ChatMessage.assistant(choice.asText())),
                            choices.size() == answer,
                            maxTokens / 2,
                            maxTokens));
                }
                questions.add(new Question(choices, texts, answer));
            }
        }
        if (kind == DatasetKind.UNPAIRED_PREFERENCE) {
            for (ChatDatasets.Labelled l : first(ChatDatasets.labelled(file), maxExamples)) {
                LabelledCompletion example = encoder.labelled(
                        context(baseline, l.prompt(), encoder, maxTokens / 2),
                        l.completion(),
                        l.desirable(),
                        maxTokens / 2,
                        maxTokens);
                labelled.add(example);
                if (example.desirable()) {
                    scored.add(completionSequence(example.prompt(), example.completion()));
                    prompts.add(example.prompt());
                    references.add(l.completion().get(l.completion().size() - 1).content());
                }
            }
        } else if (kind == DatasetKind.PROMPT) {
            // Prompts only (GRPO and PPO data): no answer to score token by token. The model answers each
            // prompt that has a reference, and the answer is scored against it; a policy's rewards also
            // score the prompts without one when they need no reference.
            for (ChatDatasets.Prompt p : first(ChatDatasets.prompts(file), maxExamples)) {
                long[] prompt = encoder.generationPrompt(p.prompt(), maxTokens);
                if (p.reference().isPresent()) {
                    prompts.add(prompt);
                    references.add(p.reference().get());
                } else {
                    unreferenced.add(prompt);
                }
            }
        } else if (kind == DatasetKind.PREFERENCE) {
            for (ChatDatasets.Preference p : first(ChatDatasets.preferences(file), maxExamples)) {
                PreferencePair pair = encoder.preference(
                        context(baseline, p.prompt(), encoder, maxTokens / 2),
                        p.chosen(),
                        p.rejected(),
                        maxTokens / 2,
                        maxTokens);
                pairs.add(pair);
                scored.add(completionSequence(pair.prompt(), pair.chosen()));
                prompts.add(pair.prompt());
                references.add(p.chosen().get(p.chosen().size() - 1).content());
            }
        } else {
            for (ChatDatasets.Conversation example : first(ChatDatasets.supervised(file), maxExamples)) {
                // A tool-calling example renders with its tools, as training rendered it.
                ChatEncoder own = encoder.withTools(example.tools());
                List<ChatMessage> conversation = example.messages();
                List<ChatMessage> messages = conversation;
                int firstOwn = 0;
                if (baseline != null) {
                    int fits = baseline.fit(conversation, maxTokens, m -> own.length(m, false));
                    PromptBaseline.Prompted prompted = baseline.apply(conversation, fits);
                    messages = prompted.messages();
                    firstOwn = prompted.firstOwn();
                }
                if (baseline == null) {
                    own.sft(messages, true, maxTokens).ifPresent(scored::add);
                } else {
                    int ownStart = own.length(messages.subList(0, firstOwn), false);
                    own.sftFrom(messages, firstOwn, Integer.MAX_VALUE)
                            .map(whole -> withinLimit(whole, ownStart, maxTokens))
                            .filter(cut -> cut.targetCount() > 0)
                            .ifPresent(scored::add);
                }
                int last = lastAssistant(messages);
                Map<String, ?> variables = example.tools().isEmpty() ? Map.of() : Map.of("tools", example.tools());
                long[] prompt = Arrays.stream(tokenizer.encodeChat(messages.subList(0, last), true, variables))
                        .asLongStream()
                        .toArray();
                prompts.add(
                        prompt.length > maxTokens
                                ? Arrays.copyOfRange(prompt, prompt.length - maxTokens, prompt.length)
                                : prompt);
                references.add(messages.get(last).content());
            }
        }
        return new EvalExamples(scored, prompts, references, pairs, labelled, questions, unreferenced);
    }

    /** The split's lines as JSON objects, in file order (blank lines skipped). */
    private static List<JsonNode> jsonLines(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        try (var all = Files.lines(file)) {
            for (String line : (Iterable<String>) all::iterator) {
                if (!line.isBlank()) {
                    lines.add(JSON.readTree(line));
                }
            }
        }
        return lines;
    }

    /**
     * A completion's prompt with the baseline's context before it, as many worked examples as fit
     * {@code maxPromptTokens} (the prompt keeps its end beyond that, as preference prompts do).
     */
    private static List<ChatMessage> context(
            PromptBaseline baseline, List<ChatMessage> prompt, ChatEncoder encoder, int maxPromptTokens) {
        if (baseline == null) {
            return prompt;
        }
        int fits = baseline.fit(prompt, maxPromptTokens, m -> encoder.length(m, true));
        return baseline.apply(prompt, fits).messages();
    }

    /**
     * A prompted example cut to {@code maxTokens} so that it scores the tokens the example alone
     * would: the example's own part (from {@code ownStart}) keeps its start, as plain truncation
     * does, and the context before it gives way from its beginning. (The worked examples were left
     * out first, see {@link PromptBaseline#fit}; this cuts into the system prompt only when even it
     * does not fit.)
     */
    static TrainingSequence withinLimit(TrainingSequence whole, int ownStart, int maxTokens) {
        int total = whole.length();
        if (total <= maxTokens) {
            return whole;
        }
        int from = total - ownStart >= maxTokens ? ownStart : total - maxTokens;
        int to = Math.min(total, from + maxTokens);
        boolean[] targets = Arrays.copyOfRange(whole.targets(), from, to);
        targets[0] = false;
        return TrainingSequence.of(Arrays.copyOfRange(whole.ids(), from, to), targets);
    }

    /** Prompt followed by completion, only the completion's tokens scored. */
    static TrainingSequence completionSequence(long[] prompt, long[] completion) {
        long[] ids = Arrays.copyOf(prompt, prompt.length + completion.length);
        System.arraycopy(completion, 0, ids, prompt.length, completion.length);
        boolean[] targets = new boolean[ids.length];
        Arrays.fill(targets, Math.max(1, prompt.length), ids.length, true);
        return TrainingSequence.of(ids, targets);
    }

    /** [start, end) of the last run of trained positions after position 0 (which cannot be trained). */
    static int[] lastTrainedSpan(boolean[] trained) {
        int end = trained.length;
        while (end > 1 && !trained[end - 1]) {
            end--;
        }
        int start = end;
        while (start > 1 && trained[start - 1]) {
            start--;
        }
        if (start == end) {
            throw new IllegalArgumentException("the row trains no position after its first");
        }
        return new int[] {start, end};
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
