package dev.finetune.console.pages;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.commonmark.Extension;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;

/**
 * A model card (the registry's {@code README.md}: YAML front matter, then Markdown) as HTML for the
 * version page. The card is text users control (a registration's hyperparameters, names, reasons), so
 * raw HTML in it is escaped, never passed on, and a link whose URL has another protocol than http,
 * https or mailto (a {@code javascript:} link) loses its URL (commonmark's {@code DefaultUrlSanitizer}).
 */
public final class ModelCardHtml { // public, as its record: the template reads them by reflection
    /** The front matter the Hub reads: a first line {@code ---}, YAML, a line {@code ---}. */
    private static final Pattern FRONT_MATTER =
            Pattern.compile("\\A---\\r?\\n(.*?)\\r?\\n---[ \\t]*(\\r?\\n|\\z)", Pattern.DOTALL);

    private static final List<Extension> EXTENSIONS = List.of(TablesExtension.create());
    private static final Parser PARSER = Parser.builder().extensions(EXTENSIONS).build();
    private static final HtmlRenderer RENDERER = HtmlRenderer.builder()
            .extensions(EXTENSIONS)
            .escapeHtml(true)
            .sanitizeUrls(true)
            .build();

    private ModelCardHtml() {}

    /**
     * @param frontMatter the YAML front matter as text (the page shows it as a pre block), or "" without one
     * @param html the Markdown after it, rendered; safe to put into the page as it is
     */
    public record Rendered(String frontMatter, String html) {}

    static Rendered render(String card) {
        if (card == null) {
            return new Rendered("", "");
        }
        Matcher front = FRONT_MATTER.matcher(card);
        String frontMatter = "";
        String markdown = card;
        if (front.find()) {
            frontMatter = front.group(1);
            markdown = card.substring(front.end());
        }
        return new Rendered(frontMatter, RENDERER.render(PARSER.parse(markdown)));
    }
}
