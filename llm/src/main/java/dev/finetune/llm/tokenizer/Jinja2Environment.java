package dev.finetune.llm.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.time.Clock;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Locale;
import jinjava.javax.el.CompositeELResolver;

/**
 * The Jinjava set-up that renders like transformers' chat-template environment
 * ({@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)} with a
 * {@code tojson} that is {@code json.dumps(ensure_ascii=False)}, and the globals
 * {@code raise_exception} and {@code strftime_now}), with {@link Jinja2Filters} replacing the
 * Jinjava filters and tests whose semantics differ from Python's.
 */
final class Jinja2Environment {
    /** Shared: Jinjava instances are thread-safe, and building one registers all its libraries. */
    static final Jinjava JINJAVA = create();

    private static final CompositeELResolver RESOLVER = new CompositeELResolver();

    static {
        RESOLVER.add(new PythonMethodResolver());
        // Read-only, like the immutable sandbox: templates cannot mutate the caller's messages.
        RESOLVER.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
    }

    private Jinja2Environment() {}

    /** Per-render configuration; the clock feeds {@code strftime_now}. */
    static JinjavaConfig config(Clock clock) {
        LegacyOverrides python = LegacyOverrides.newBuilder()
                .withEvaluateMapKeys(true) // {key: v} uses the variable key, as in Python
                .withIterateOverMapKeys(true) // for k in dict yields keys
                .withUsePyishObjectMapper(true) // {{ list }} prints ['a', 'b'] like Python
                .withUseNaturalOperatorPrecedence(true) // without it {{ -1 }} prints 1
                .withKeepNullableLoopValues(true) // a None in a list is still an item
                .withParseWhitespaceControlStrictly(true) // otherwise {{ -x }} reads as {{- x }}
                .build();
        return JinjavaConfig.newBuilder()
                // trim_blocks / lstrip_blocks are applied by Jinja2Rewriter; Jinjava's differ from Jinja2's.
                .withTrimBlocks(false)
                .withLstripBlocks(false)
                .withNestedInterpretationEnabled(false) // message text containing {{ }} is text, not template
                .withElResolver(RESOLVER)
                .withLegacyOverrides(python)
                .withDateTimeProvider(clock::millis)
                .withTimeZone(clock.getZone())
                .build();
    }

    private static Jinjava create() {
        Jinjava jinjava = new Jinjava(config(Clock.systemDefaultZone()));
        Jinja2Filters.all().forEach(jinjava::registerFilter);
        Jinja2Filters.tests().forEach(jinjava::registerExpTest);
        jinjava.registerFunction(new ELFunctionDefinition(
                "", "raise_exception", Jinja2Environment.class, "raiseException", Object.class));
        jinjava.registerFunction(
                new ELFunctionDefinition("", "strftime_now", Jinja2Environment.class, "strftimeNow", String.class));
        return jinjava;
    }

    /** Thrown by the template's {@code raise_exception(message)}. */
    static final class TemplateRaised extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TemplateRaised(String message) {
            super(message, null, false, false);
        }
    }

    /** {@code raise_exception(message)}: aborts rendering with the template's own message. */
    public static Object raiseException(Object message) {
        throw new TemplateRaised(String.valueOf(message));
    }

    /** {@code strftime_now(format)}: the render clock's time, formatted with Python strftime directives. */
    public static String strftimeNow(String format) {
        JinjavaConfig config = JinjavaInterpreter.getCurrent().getConfig();
        ZonedDateTime now = ZonedDateTime.ofInstant(
                Instant.ofEpochMilli(config.getDateTimeProvider().getCurrentTimeMillis()), config.getTimeZone());
        return StrftimeFormatter.format(now, format, Locale.US);
    }
}
