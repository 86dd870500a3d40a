package dev.finetune.llm.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * One in-process run of the CLI with stdout and stderr captured. {@link #outChunks} is stdout as
 * the command flushed it, piece by piece, which shows whether text was streamed.
 */
record CliRun(int exitCode, String out, String err, List<String> outChunks) {

    static CliRun of(String... args) {
        FlushRecorder out = new FlushRecorder();
        StringWriter err = new StringWriter();
        CommandLine cli = LlmCli.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exitCode = cli.execute(args);
        return new CliRun(exitCode, out.all.toString(), err.toString(), out.chunks);
    }

    /** Keeps everything written, and what was written between consecutive flushes. */
    private static final class FlushRecorder extends Writer {
        private final StringBuilder all = new StringBuilder();
        private final StringBuilder pending = new StringBuilder();
        private final List<String> chunks = new ArrayList<>();

        @Override
        public void write(char[] buffer, int offset, int length) {
            all.append(buffer, offset, length);
            pending.append(buffer, offset, length);
        }

        @Override
        public void flush() {
            if (pending.length() > 0) {
                chunks.add(pending.toString());
                pending.setLength(0);
            }
        }

        @Override
        public void close() {
            flush();
        }
    }
}
