package dev.finetune.llm.tokenizer;

import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model's own Jinja chat template, rendered the way HuggingFace transformers'
 * {@code apply_chat_template(..., tokenize=False)} renders it: same whitespace handling
 * ({@code trim_blocks}, {@code lstrip_blocks}, no trailing newline), same variables (the special
 * tokens such as {@code bos_token} and {@code eos_token}, {@code messages}, {@code tools} and
 * {@code documents} as none, {@code add_generation_prompt}, then the caller's extra variables
 * such as {@code enable_thinking}), and same {@code tojson}, {@code raise_exception} and
 * {@code strftime_now}.
 *
 * <p>Rendering runs on Jinjava after {@link Jinja2Rewriter} has rewritten the few Jinja2 constructs
 * Jinjava reads differently; Python {@code str} methods come from {@link PythonMethodResolver}.
 * Known differences from Python Jinja2, none used by the templates we test: Jinjava has no
 * Undefined distinct from None ({@code x is defined} is false for a None value), prints
 * {@code True}/{@code None} as {@code true}/empty, treats the string {@code 'false'} as falsy and
 * {@code 1 == '1'} as true, and has no {@code loop.previtem}/{@code nextitem}/{@code changed}
 * (a template using them is rejected when it is created, as is one naming a filter or test that
 * Jinjava lacks, which Jinjava itself would skip silently).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ChatTemplate {
    private static final Set<String> RESERVED = Set.of("messages", "add_generation_prompt");
    /** Loop attributes Jinjava lacks; it would render them as undefined instead of failing. */
    private static final Pattern UNSUPPORTED_LOOP_ATTRIBUTE =
            Pattern.compile("\\bloop\\.(previtem|nextitem|changed)\\b");

    private final String template;
    private final String jinjavaSource;
    private final String source;
    private final Map<String, Object> specialTokens;
    private final JinjavaConfig config;

    private ChatTemplate(String template, Map<String, ?> specialTokens, String source, Clock clock) {
        Matcher unsupported = UNSUPPORTED_LOOP_ATTRIBUTE.matcher(template);
        if (unsupported.find()) {
            throw new ChatTemplateException(
                    "chat template (" + source + ") uses " + unsupported.group()
                            + ", which Jinjava's loop does not have",
                    null,
                    null);
        }
        this.template = template;
        Jinja2Rewriter.Rewritten rewritten = Jinja2Rewriter.rewrite(template);
        requireAvailable(rewritten.usage(), source);
        this.jinjavaSource = rewritten.source();
        this.source = source;
        this.specialTokens = new LinkedHashMap<>(specialTokens);
        this.config = Jinja2Environment.config(clock);
    }

    /**
     * A template with the special-token variables its tokenizer provides ({@code bos_token},
     * {@code eos_token}, ... as in transformers' {@code special_tokens_map}).
     *
     * @param source where the template came from, for error messages ("…/tokenizer_config.json: chat_template")
     * @throws ChatTemplateException if the template uses a filter, test or loop attribute that the
     *     Java renderer does not have
     */
    public static ChatTemplate of(String template, Map<String, ?> specialTokens, String source) {
        Objects.requireNonNull(template, "template");
        return new ChatTemplate(template, specialTokens, source, Clock.systemDefaultZone());
    }

    private static void requireAvailable(ExpressionRewriter.Usage usage, String source) {
        var context = Jinja2Environment.JINJAVA.getGlobalContext();
        for (String filter : usage.filters()) {
            if (context.getFilter(filter) == null) {
                throw new ChatTemplateException(
                        "chat template (" + source + ") uses the filter '" + filter
                                + "', which the Java renderer does not have",
                        null,
                        null);
            }
        }
        for (String test : usage.tests()) {
            if (context.getExpTest(test) == null) {
                throw new ChatTemplateException(
                        "chat template (" + source + ") uses the test '" + test
                                + "', which the Java renderer does not have",
                        null,
                        null);
            }
        }
    }

    /** The same template with {@code strftime_now} reading {@code clock} (for reproducible prompts). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(template, specialTokens, source, clock);
    }

    /** The Jinja2 template text as the model ships it. */
    public String template() {
        return template;
    }

    /** Where the template came from. */
    public String source() {
        return source;
    }

    /** Renders a conversation; {@code addGenerationPrompt} appends the header of the assistant's next turn. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders a conversation with extra template variables ({@code enable_thinking}, {@code tools},
     * {@code date_string}...), which override special tokens of the same name, as in transformers.
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> variables) {
        List<Map<String, Object>> maps = new ArrayList<>(messages.size());
        messages.forEach(m -> maps.add(m.toMap()));
        return renderMaps(maps, addGenerationPrompt, variables);
    }

    /**
     * Renders messages given as maps, for fields beyond role and content ({@code tool_calls},
     * {@code reasoning_content}). Values must be maps, lists, strings, numbers, booleans or null.
     *
     * @throws ChatTemplateException if the template fails or calls {@code raise_exception}
     */
    public String renderMaps(
            List<? extends Map<String, ?>> messages, boolean addGenerationPrompt, Map<String, ?> variables) {
        for (String name : variables.keySet()) {
            if (RESERVED.contains(name)) {
                throw new IllegalArgumentException("'" + name + "' is set by the renderer, not an extra variable");
            }
        }
        Map<String, Object> bindings = new LinkedHashMap<>(specialTokens);
        bindings.putAll(variables);
        bindings.put("messages", messages);
        bindings.putIfAbsent("tools", null);
        bindings.putIfAbsent("documents", null);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result = Jinja2Environment.JINJAVA.renderForResult(jinjavaSource, bindings, config);
        List<TemplateError> errors = result.getErrors().stream()
                .filter(e -> !isUndefinedAttribute(e))
                .toList();
        if (!errors.isEmpty()) {
            throw failure(errors);
        }
        return result.getOutput();
    }

    /**
     * Jinjava reports {@code x.missing} as a warning and evaluates it to null; Jinja2 evaluates it to
     * Undefined without complaint ({@code message.content.content is defined} on a string is false).
     */
    private static boolean isUndefinedAttribute(TemplateError error) {
        return error.getSeverity() == TemplateError.ErrorType.WARNING
                && error.getReason() == TemplateError.ErrorReason.UNKNOWN
                && error.getItem() == TemplateError.ErrorItem.PROPERTY;
    }

    private ChatTemplateException failure(List<TemplateError> errors) {
        for (TemplateError error : errors) {
            for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                if (t instanceof Jinja2Environment.TemplateRaised raised) {
                    return new ChatTemplateException(
                            "chat template (" + source + ") raised an exception at line " + error.getLineno() + ": "
                                    + raised.getMessage(),
                            raised.getMessage(),
                            raised);
                }
            }
        }
        TemplateError first = errors.get(0);
        String more = errors.size() > 1 ? " (and " + (errors.size() - 1) + " more errors)" : "";
        return new ChatTemplateException(
                "chat template (" + source + ") failed at line " + first.getLineno() + ": " + first.getMessage() + more,
                null,
                first.getException());
    }
}
