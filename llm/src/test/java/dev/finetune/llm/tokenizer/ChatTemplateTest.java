package dev.finetune.llm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** How ChatTemplate reports failures and binds variables; rendering parity is in JinjaConstructParityTest. */
class ChatTemplateTest {
    private static final List<ChatMessage> HELLO = List.of(ChatMessage.user("hello"));
    private static final String SOURCE = "/models/x/tokenizer_config.json: chat_template";

    @Test
    void raiseExceptionStopsRenderingWithTheTemplatesMessage() {
        ChatTemplate template =
                ChatTemplate.of("{{ raise_exception('bad role: ' + messages[0].role) }}", Map.of(), SOURCE);

        assertThatThrownBy(() -> template.render(HELLO, false))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining(SOURCE)
                .hasMessageContaining("bad role: user")
                .satisfies(e ->
                        assertThat(((ChatTemplateException) e).raisedMessage()).contains("bad role: user"));
    }

    @Test
    void syntaxErrorIsReportedWithTheTemplateLine() {
        ChatTemplate template = ChatTemplate.of("first line\n{% if %}x{% endif %}\n", Map.of(), SOURCE);

        assertThatThrownBy(() -> template.render(HELLO, false))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining(SOURCE)
                .hasMessageContaining("line 2")
                .satisfies(e ->
                        assertThat(((ChatTemplateException) e).raisedMessage()).isEmpty());
    }

    @Test
    void lineNumbersSurviveWhitespaceControl() {
        ChatTemplate template = ChatTemplate.of(
                "a\n  {%- if true %}{{ '\\n\\n' }}\n\n{{ 'x'.nosuchmethod() }}{% endif %}", Map.of(), SOURCE);

        assertThatThrownBy(() -> template.render(HELLO, false))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("line 4")
                .hasMessageContaining("nosuchmethod");
    }

    @Test
    void pythonStringMethodMisuseIsAnError() {
        ChatTemplate template = ChatTemplate.of("{{ messages[0].content.split('') }}", Map.of(), SOURCE);

        assertThatThrownBy(() -> template.render(HELLO, false)).hasMessageContaining("empty separator");
    }

    @Test
    void unknownFilterIsRejectedInsteadOfSilentlySkipped() {
        assertThatThrownBy(() -> ChatTemplate.of("{{ messages|max }}", Map.of(), SOURCE))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("filter 'max'");
        assertThatThrownBy(() -> ChatTemplate.of("{% if x is callable %}{% endif %}", Map.of(), SOURCE))
                .hasMessageContaining("test 'callable'");
    }

    @Test
    void loopAttributesJinjavaLacksAreRejected() {
        assertThatThrownBy(() ->
                        ChatTemplate.of("{% for m in messages %}{{ loop.previtem }}{% endfor %}", Map.of(), SOURCE))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("loop.previtem");
    }

    @Test
    void specialTokensAreVariablesAndExtraVariablesOverrideThem() {
        ChatTemplate template = ChatTemplate.of(
                "{{ bos_token }}|{{ eos_token }}", Map.of("bos_token", "<s>", "eos_token", "</s>"), SOURCE);

        assertThat(template.render(HELLO, false)).isEqualTo("<s>|</s>");
        assertThat(template.render(HELLO, false, Map.of("eos_token", "<|eot|>")))
                .isEqualTo("<s>|<|eot|>");
    }

    @Test
    void toolsAndDocumentsAreNoneUnlessGiven() {
        ChatTemplate template = ChatTemplate.of(
                "{% if tools is none and documents is none %}none{% else %}{{ tools|length }}{% endif %}",
                Map.of(), SOURCE);

        assertThat(template.render(HELLO, false)).isEqualTo("none");
        assertThat(template.render(HELLO, false, Map.of("tools", List.of(Map.of("name", "f")))))
                .isEqualTo("1");
    }

    @Test
    void messagesCannotBeOverriddenByExtraVariables() {
        ChatTemplate template = ChatTemplate.of("{{ messages|length }}", Map.of(), SOURCE);

        assertThatThrownBy(() -> template.render(HELLO, false, Map.of("messages", List.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("messages");
    }

    @Test
    void concurrentRendersDoNotInterfere() throws Exception {
        ChatTemplate template = ChatTemplate.of(
                "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{{ m.content }}{% endfor"
                        + " %}:{{ ns.n }}",
                Map.of(), SOURCE);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int n = i % 7 + 1;
                List<ChatMessage> messages = new ArrayList<>();
                for (int k = 0; k < n; k++) {
                    messages.add(ChatMessage.user(String.valueOf(i)));
                }
                results.add(pool.submit(() -> template.render(messages, false)));
            }
            for (int i = 0; i < results.size(); i++) {
                assertThat(results.get(i).get()).isEqualTo(String.valueOf(i).repeat(i % 7 + 1) + ":" + (i % 7 + 1));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
