package dev.finetune.llm.settings;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code llm settings}: every training setting with its type, default, rule and meaning. */
@Command(
        name = "settings",
        mixinStandardHelpOptions = true,
        description = "Lists every training setting (the names job files, the job API and --set use).")
public final class SettingsCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--markdown", description = "A Markdown table (the README's).")
    private boolean markdown;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.print(markdown ? markdownTable(Settings.CATALOG) : plainList(Settings.CATALOG));
        out.flush();
        return 0;
    }

    /** One row a setting: name, type, default, rule, meaning. */
    public static String markdownTable(SettingsCatalog catalog) {
        StringBuilder table =
                new StringBuilder("| setting | type | default | must be | meaning |\n|---|---|---|---|---|\n");
        for (Setting<?> s : catalog.all()) {
            table.append("| `")
                    .append(s.name())
                    .append("` | ")
                    .append(s.type().description())
                    .append(" | ")
                    .append(s.defaultText())
                    .append(" | ")
                    .append(s.ruleText())
                    .append(" | ")
                    .append(s.help())
                    .append(" |\n");
        }
        return table.toString();
    }

    private static String plainList(SettingsCatalog catalog) {
        StringBuilder list = new StringBuilder();
        for (Setting<?> s : catalog.all()) {
            list.append(s.name())
                    .append(" (")
                    .append(s.type().description())
                    .append(", default ")
                    .append(s.defaultText())
                    .append("): ")
                    .append(s.help())
                    .append('\n');
        }
        return list.toString();
    }
}
