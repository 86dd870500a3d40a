package dev.finetune.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * What one {@code finetune} command, run in this JVM, printed and its exit code.
 *
 * @param exit the exit code
 * @param out what it printed on standard output
 * @param err what it printed on standard error
 */
public record CliRun(int exit, String out, String err) {
    /** Runs {@code finetune ARGS}. */
    public static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = FinetuneCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
