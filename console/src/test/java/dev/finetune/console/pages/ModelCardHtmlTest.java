package dev.finetune.console.pages;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ModelCardHtmlTest {
    private static final String CARD =
            """
            ---
            base_model: tiny-chat
            library_name: peft
            ---

            # support v1

            A PEFT LoRA adapter for `tiny-chat`.

            | name | value |
            |---|---|
            | learning_rate | 0.002 |
            """;

    @Test
    void theCardsHeadingsAndTablesBecomeHtmlAndItsFrontMatterIsKeptApart() {
        ModelCardHtml.Rendered rendered = ModelCardHtml.render(CARD);

        assertThat(rendered.frontMatter()).isEqualTo("base_model: tiny-chat\nlibrary_name: peft");
        assertThat(rendered.html())
                .contains("<h1>support v1</h1>", "<code>tiny-chat</code>", "<td>learning_rate</td>", "<td>0.002</td>")
                .doesNotContain("base_model", "---");
    }

    @Test
    void htmlInTheCardIsEscapedNotRun() {
        String card = CARD
                + "\n<script>alert('card')</script>\n\nSee <img src=x onerror=alert(1)> and"
                + " [this](javascript:alert(2)).\n\n| a | b |\n|---|---|\n| <script>x</script> | 1 |\n";

        String html = ModelCardHtml.render(card).html();

        assertThat(html)
                .doesNotContain("<script", "<img", "javascript:")
                .contains("&lt;script&gt;alert('card')&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")
                .contains("<td>&lt;script&gt;x&lt;/script&gt;</td>");
    }

    @Test
    void aCardWithoutFrontMatterIsAllMarkdownAndNoCardIsEmpty() {
        ModelCardHtml.Rendered rendered = ModelCardHtml.render("# title\n\n---\n\ntext\n");

        assertThat(rendered.frontMatter()).isEmpty();
        assertThat(rendered.html()).contains("<h1>title</h1>", "<hr />", "<p>text</p>");
        assertThat(ModelCardHtml.render(null)).isEqualTo(new ModelCardHtml.Rendered("", ""));
    }
}
