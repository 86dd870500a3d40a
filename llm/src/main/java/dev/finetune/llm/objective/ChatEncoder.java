package dev.finetune.llm.objective;

import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Turns conversations into training tokens with the model's own chat template.
 *
 * <p>The assistant's tokens are found by rendering the conversation prefix by prefix, as a template
 * gives no offsets: for assistant message i, the tokens of messages {@code [0, i)} rendered with the
 * generation prompt (which ends with the assistant header) are a prefix of the tokens of messages
 * {@code [0, i]}; what follows is the assistant's turn, its end-of-turn token included, so the model
 * learns to stop. A template that renders the last turn specially is handled (see {@link
 * #assistantSpan}); one for which even the prefix before the turn is unstable (it rewrites earlier
 * turns, say) is reported rather than guessed at. Costs two renders and encodes per assistant turn.
 */
public final class ChatEncoder {
    private final Tokenizer tokenizer;
    private final Map<String, ?> templateVariables;

    /** @param templateVariables extra chat-template variables ({@code enable_thinking}...), usually none */
    public ChatEncoder(Tokenizer tokenizer, Map<String, ?> templateVariables) {
        this.tokenizer = tokenizer;
        this.templateVariables = Map.copyOf(templateVariables);
    }

    /**
     * The same encoder with an example's function schemas bound to the template's {@code tools}
     * variable (none if {@code tools} is empty, as transformers passes {@code tools=None}).
     * Assistant turns that call tools are located and trained like any assistant turn; {@code tool}
     * results are context, never trained.
     */
    public ChatEncoder withTools(List<? extends Map<String, ?>> tools) {
        if (tools.isEmpty()) {
            return this;
        }
        Map<String, Object> variables = new HashMap<>(templateVariables);
        variables.put("tools", List.copyOf(tools));
        return new ChatEncoder(tokenizer, variables);
    }

    /**
     * A supervised example: the whole conversation, with the loss on the assistant turns only (or on
     * every token but the first), cut to {@code maxLength} tokens.
     *
     * @return empty if no trained token is left after truncation (the example teaches nothing)
     * @throws IllegalArgumentException if an assistant turn cannot be located in the rendered tokens
     */
    public Optional<TrainingSequence> sft(List<ChatMessage> messages, boolean assistantOnly, int maxLength) {
        if (assistantOnly) {
            return sftFrom(messages, 0, maxLength);
        }
        long[] ids = encode(messages, false);
        boolean[] targets = new boolean[ids.length];
        Arrays.fill(targets, 1, ids.length, true);
        return sequence(ids, targets, maxLength);
    }

    /**
     * A supervised example whose loss is on the assistant turns from message {@code firstScored} on:
     * the messages before it are context only (an evaluation's few-shot examples, say), rendered and
     * attended to but not scored.
     *
     * @return empty if no scored token is left after truncation
     */
    public Optional<TrainingSequence> sftFrom(List<ChatMessage> messages, int firstScored, int maxLength) {
        long[] ids = encode(messages, false);
        boolean[] targets = new boolean[ids.length];
        for (int i = firstScored; i < messages.size(); i++) {
            if (messages.get(i).role().equals("assistant")) {
                int[] span = assistantSpan(messages, i, ids);
                Arrays.fill(targets, span[0], span[1], true);
            }
        }
        return sequence(ids, targets, maxLength);
    }

    private static Optional<TrainingSequence> sequence(long[] ids, boolean[] targets, int maxLength) {
        targets[0] = false;
        TrainingSequence sequence = TrainingSequence.of(ids, targets).truncate(maxLength);
        return sequence.targetCount() == 0 ? Optional.empty() : Optional.of(sequence);
    }

    /** The number of tokens the template renders for {@code messages}. */
    public int length(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return encode(messages, addGenerationPrompt).length;
    }

    /**
     * A preference example. The prompt keeps its last {@code maxPromptLength} tokens (its end is the
     * context the completions continue, TRL's {@code keep_end}); each completion keeps its first
     * tokens so that prompt and completion fit in {@code maxLength}.
     *
     * @param prompt the conversation so far (ending with a user turn)
     * @param chosen the preferred continuation, normally one assistant message
     * @param rejected the dispreferred continuation
     */
    public PreferencePair preference(
            List<ChatMessage> prompt,
            List<ChatMessage> chosen,
            List<ChatMessage> rejected,
            int maxPromptLength,
            int maxLength) {
        long[] promptIds = encode(prompt, true);
        long[] chosenIds = completion(prompt, chosen, promptIds, "chosen");
        long[] rejectedIds = completion(prompt, rejected, promptIds, "rejected");
        promptIds = keepEnd(promptIds, maxPromptLength);
        return new PreferencePair(
                promptIds, fitAfter(promptIds, chosenIds, maxLength), fitAfter(promptIds, rejectedIds, maxLength));
    }

    /**
     * An unpaired preference example (KTO), cut as {@link #preference} cuts a pair: the prompt keeps its
     * last {@code maxPromptLength} tokens, the completion its first ones.
     */
    public LabelledCompletion labelled(
            List<ChatMessage> prompt,
            List<ChatMessage> completion,
            boolean desirable,
            int maxPromptLength,
            int maxLength) {
        long[] promptIds = encode(prompt, true);
        long[] completionIds = completion(prompt, completion, promptIds, "labelled");
        promptIds = keepEnd(promptIds, maxPromptLength);
        return new LabelledCompletion(promptIds, fitAfter(promptIds, completionIds, maxLength), desirable);
    }

    /**
     * A prompt to generate an answer to (GRPO): the conversation rendered with the generation prompt
     * (the assistant's header), keeping its last {@code maxPromptLength} tokens as {@link #preference}.
     */
    public long[] generationPrompt(List<ChatMessage> prompt, int maxPromptLength) {
        return keepEnd(encode(prompt, true), maxPromptLength);
    }

    private static long[] keepEnd(long[] ids, int maxLength) {
        return ids.length > maxLength ? Arrays.copyOfRange(ids, ids.length - maxLength, ids.length) : ids;
    }

    /** The first tokens of {@code completion} that fit after {@code prompt} in {@code maxLength} (at least one). */
    static long[] fitAfter(long[] prompt, long[] completion, int maxLength) {
        int room = Math.max(1, maxLength - prompt.length);
        return Arrays.copyOf(completion, Math.min(room, completion.length));
    }

    /** The tokens the template renders for {@code continuation} after {@code prompt}'s generation prompt. */
    private long[] completion(
            List<ChatMessage> prompt, List<ChatMessage> continuation, long[] promptIds, String which) {
        if (continuation.isEmpty()) {
            throw new IllegalArgumentException("the " + which + " completion has no messages");
        }
        List<ChatMessage> whole = new ArrayList<>(prompt);
        whole.addAll(continuation);
        long[] ids = encode(whole, false);
        if (!startsWith(ids, promptIds) || ids.length == promptIds.length) {
            throw new IllegalArgumentException("the chat template does not render the prompt with its generation"
                    + " prompt as a prefix of the conversation with the " + which
                    + " completion, so the completion's tokens cannot be told apart");
        }
        return Arrays.copyOfRange(ids, promptIds.length, ids.length);
    }

    /**
     * [start, end) of assistant message {@code index} in the conversation's tokens {@code all}. Some
     * templates render a conversation's last assistant turn differently from the same turn followed
     * by more messages (Qwen3 gives the last one an empty think block); then the span ends at the
     * turn's end-of-turn token (the tokenizer's eos) instead.
     */
    private int[] assistantSpan(List<ChatMessage> messages, int index, long[] all) {
        long[] before = encode(messages.subList(0, index), true);
        if (startsWith(all, before)) {
            long[] through = encode(messages.subList(0, index + 1), false);
            if (startsWith(through, before) && startsWith(all, through)) {
                return new int[] {before.length, through.length};
            }
            OptionalInt endOfTurn = indexOfEndOfTurn(all, before.length);
            if (endOfTurn.isPresent()) {
                return new int[] {before.length, endOfTurn.getAsInt() + 1};
            }
        }
        throw new IllegalArgumentException("message " + index + " (assistant): the chat template does not"
                + " render the conversation prefix by prefix, so the assistant's tokens cannot be located;"
                + " train on every token instead (assistant_only_loss: false)");
    }

    /** The first end-of-turn token (the tokenizer's eos) at or after {@code from}. */
    private OptionalInt indexOfEndOfTurn(long[] ids, int from) {
        if (tokenizer.specialTokens().eos().isEmpty()) {
            return OptionalInt.empty();
        }
        long endOfTurn = tokenizer.specialTokens().eos().get().id();
        for (int t = from; t < ids.length; t++) {
            if (ids[t] == endOfTurn) {
                return OptionalInt.of(t);
            }
        }
        return OptionalInt.empty();
    }

    private long[] encode(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return Arrays.stream(tokenizer.encodeChat(messages, addGenerationPrompt, templateVariables))
                .asLongStream()
                .toArray();
    }

    private static boolean startsWith(long[] ids, long[] prefix) {
        return ids.length >= prefix.length && Arrays.equals(ids, 0, prefix.length, prefix, 0, prefix.length);
    }
}
