package dev.finetune.console.pages;

import io.quarkus.qute.TemplateExtension;
import java.util.Locale;

/** How the pages print numbers the services answer with full double precision. */
@TemplateExtension
public final class NumberFormats {
    private NumberFormats() {}

    /**
     * A mean, to one decimal ({@code {s.meanTokens.oneDecimal}}): a mean of token counts has no more
     * meaning than that, and its full double ({@code 37.42857142857143}) reads as noise.
     */
    static String oneDecimal(Number value) {
        return String.format(Locale.ROOT, "%.1f", value.doubleValue());
    }
}
