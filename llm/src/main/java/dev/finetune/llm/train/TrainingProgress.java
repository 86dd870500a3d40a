package dev.finetune.llm.train;

import dev.finetune.llm.cli.ProgressBar;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * {@code llm train}'s progress, drawn with the project's one {@link ProgressBar}:
 *
 * <pre>training    [###---------------------]  13%  12/90  epoch 0.40  loss 1.2345  lr 2.00e-04  grad 0.812  1,234 tok/s  ETA 1:23</pre>
 *
 * DPO steps add the preference accuracy and reward margin; resuming and checkpoints are announced on
 * their own lines above the bar.
 */
final class TrainingProgress implements TrainingListener {
    private final ProgressBar bar;

    TrainingProgress(ProgressBar bar) {
        this.bar = bar;
    }

    @Override
    public void onStart(int startStep, int totalSteps) {
        if (startStep > 0) {
            bar.message(String.format(Locale.ROOT, "resuming at step %d of %d", startStep, totalSteps));
        }
    }

    @Override
    public void onStep(StepMetrics m) {
        StringBuilder detail = new StringBuilder(String.format(
                Locale.ROOT,
                "epoch %.2f  loss %.4f  lr %.2e  grad %.3f  %,.0f tok/s",
                m.epoch(),
                m.loss(),
                m.learningRate(),
                m.gradNorm(),
                m.tokensPerSecond()));
        // preference objectives' implicit rewards (TRL's rewards/...), or a reward model's own scores
        Double accuracy = m.objectiveMetrics()
                .getOrDefault("rewards/accuracies", m.objectiveMetrics().get("accuracy"));
        Double margin = m.objectiveMetrics()
                .getOrDefault("rewards/margins", m.objectiveMetrics().get("margin"));
        if (accuracy != null && margin != null) {
            detail.append(String.format(Locale.ROOT, "  acc %.2f  margin %.3f", accuracy, margin));
        }
        detail.append("  ETA ").append(ProgressBar.clock(m.eta().toMillis() / 1000.0));
        if (m.step() == m.totalSteps()) {
            bar.finish(m.step(), m.totalSteps(), detail.toString());
        } else {
            bar.update(m.step(), m.totalSteps(), detail.toString());
        }
    }

    @Override
    public void onEvaluate(int step, double epoch, Map<String, Double> metrics) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "step %d  epoch %.2f", step, epoch));
        metrics.forEach((name, value) -> line.append(String.format(Locale.ROOT, "  %s %.4f", name, value)));
        bar.message(line.toString());
    }

    @Override
    public void onCheckpoint(int step, Path directory) {
        bar.message("saved " + directory);
    }
}
