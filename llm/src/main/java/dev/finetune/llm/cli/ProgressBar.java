package dev.finetune.llm.cli;

import java.io.PrintWriter;
import java.time.Duration;

/**
 * One line of progress: {@code training  [#########-----------]  45%  18/40  loss 1.92  ETA 0:21}.
 * On a terminal the line is redrawn in place; in a log (CI, a pipe) a line is printed when the
 * percentage crosses the next tenth or the detail has not been shown for 15 s, so logs stay short.
 * The one progress bar of the project: {@code llm train} and {@code finetune} (job watch, the local
 * run) draw with it.
 */
public final class ProgressBar {
    private static final int WIDTH = 24;
    private static final long LOG_INTERVAL_NANOS = Duration.ofSeconds(15).toNanos();

    private final PrintWriter out;
    private final String label;
    private final boolean terminal;
    private String shown = "";
    /** In a log: the last line actually printed. */
    private String printed = "";

    private int loggedTenth = -1;
    private long loggedAt;
    private boolean open;

    public ProgressBar(PrintWriter out, String label, boolean terminal) {
        this.out = out;
        this.label = label;
        this.terminal = terminal;
    }

    /** A bar on standard output, redrawn in place when it is a terminal. */
    public static ProgressBar onStdout(String label) {
        return new ProgressBar(new PrintWriter(System.out, true), label, System.console() != null);
    }

    /** Shows {@code done} of {@code total} (total 0: not known yet) with a detail after the bar. */
    public synchronized void update(long done, long total, String detail) {
        String line = render(done, total, detail);
        if (line.equals(shown)) {
            return;
        }
        shown = line;
        if (terminal) {
            out.print("\r" + line + "\u001b[K");
            out.flush();
            open = true;
            return;
        }
        int tenth = total > 0 ? (int) Math.min(10, done * 10 / total) : 0;
        long now = System.nanoTime();
        if (tenth > loggedTenth || now - loggedAt > LOG_INTERVAL_NANOS) {
            out.println(line);
            out.flush();
            printed = line;
            loggedTenth = tenth;
            loggedAt = now;
        }
    }

    /** Prints a message on its own line, keeping the bar below it on a terminal. */
    public synchronized void message(String text) {
        if (terminal && open) {
            out.print("\r\u001b[K");
        }
        out.println(text);
        if (terminal && open) {
            out.print(shown);
        }
        out.flush();
    }

    /** The final state of the bar, always printed, ending the line. */
    public synchronized void finish(long done, long total, String detail) {
        String line = render(done, total, detail);
        if (terminal) {
            out.print("\r" + line + "\u001b[K");
            out.println();
        } else if (!line.equals(printed)) {
            out.println(line);
            printed = line;
        }
        out.flush();
        shown = line;
        open = false;
    }

    String render(long done, long total, String detail) {
        StringBuilder line = new StringBuilder(String.format("%-11s [", label));
        int filled = total > 0 ? (int) Math.min(WIDTH, done * WIDTH / total) : 0;
        line.append("#".repeat(filled)).append("-".repeat(WIDTH - filled)).append("] ");
        if (total > 0) {
            line.append(String.format("%3d%%  %d/%d", Math.min(100, done * 100 / total), done, total));
        } else {
            line.append("  ...");
        }
        if (detail != null && !detail.isBlank()) {
            line.append("  ").append(detail);
        }
        return line.toString();
    }

    /** {@code 1:05:09} or {@code 3:07}: how people read an ETA. */
    public static String clock(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format("%d:%02d", s / 60, s % 60);
    }
}
