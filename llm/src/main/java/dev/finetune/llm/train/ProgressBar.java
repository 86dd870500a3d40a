package dev.finetune.llm.train;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

/**
 * A one-line progress bar for a terminal's stderr, redrawn in place after each step:
 *
 * <pre>  12/90 [###.............]  13% epoch 0.40 loss 1.2345 lr 2.00e-04 grad 0.812 1,234 tok/s ETA 0:01:23</pre>
 *
 * DPO steps add the preference accuracy and reward margin. Checkpoints are announced on their own
 * line.
 */
final class ProgressBar implements TrainingListener {
    private static final int WIDTH = 20;

    private final PrintWriter err;
    private boolean lineOpen;

    ProgressBar(PrintWriter err) {
        this.err = err;
    }

    @Override
    public void onStart(int startStep, int totalSteps) {
        if (startStep > 0) {
            err.printf(Locale.ROOT, "resuming at step %d of %d%n", startStep, totalSteps);
            err.flush();
        }
    }

    @Override
    public void onStep(StepMetrics m) {
        int filled = (int) ((long) WIDTH * m.step() / m.totalSteps());
        StringBuilder line = new StringBuilder();
        line.append(String.format(
                Locale.ROOT,
                "\r%6d/%d [%s%s] %3d%% epoch %.2f loss %.4f lr %.2e grad %.3f %,.0f tok/s",
                m.step(),
                m.totalSteps(),
                "#".repeat(filled),
                ".".repeat(WIDTH - filled),
                100L * m.step() / m.totalSteps(),
                m.epoch(),
                m.loss(),
                m.learningRate(),
                m.gradNorm(),
                m.tokensPerSecond()));
        Double accuracy = m.objectiveMetrics().get("rewards/accuracies");
        Double margin = m.objectiveMetrics().get("rewards/margins");
        if (accuracy != null && margin != null) {
            line.append(String.format(Locale.ROOT, " acc %.2f margin %.3f", accuracy, margin));
        }
        line.append(" ETA ").append(clock(m.eta()));
        err.print(line);
        lineOpen = true;
        if (m.step() == m.totalSteps()) {
            err.println();
            lineOpen = false;
        }
        err.flush();
    }

    @Override
    public void onCheckpoint(int step, java.nio.file.Path directory) {
        if (lineOpen) {
            err.println();
            lineOpen = false;
        }
        err.println("saved " + directory);
        err.flush();
    }

    private static String clock(Duration duration) {
        long seconds = duration.toSeconds();
        return String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }
}
